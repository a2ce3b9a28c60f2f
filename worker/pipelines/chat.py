"""Chat with transformers: chat templates, batched decoding, per-job sampling, stops and streamed tokens.

Two engines (`LLMB_CHAT_ENGINE`): `continuous` (the default) keeps one continuous-batching manager
per process, which every job joins between decode steps and leaves on its own; `static` runs each
gathered batch in one `generate` call, to its longest member.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.errors import InputError
from shared.inputs import ChatInput
from shared.settings import Settings
from worker.device import pick_device, pick_dtype
from worker.pipelines.base import Output, Steps
from worker.pipelines.detok import TextStream
from worker.pipelines.engine import ChatEngine, EngineOptions, chat_places
from worker.pipelines.source import quiet, resolve_model
from worker.pipelines.watch import ChatWork, Reply

DEFAULT_FOLDER = "tiny-chat"


class TransformersChatPipeline:
    """`AutoModelForCausalLM` with its tokenizer's chat template, loaded once."""

    def __init__(self, settings: Settings) -> None:
        self.model_name = settings.chat_model or str(settings.models_dir / DEFAULT_FOLDER)
        self.device = pick_device(settings.device)
        self.cache = settings.chat_cache
        self.continuous = settings.chat_engine == "continuous"
        self.concurrent = self.continuous  # jobs join the engine's running batch (worker/slots.py)
        self.options = EngineOptions(
            max_requests=chat_places(settings.chat_max_requests),
            cuda_graphs=settings.chat_cuda_graphs,
            compile=settings.chat_compile,
            cache_blocks=settings.chat_cache_blocks,
        )
        self.engine: ChatEngine | None = None
        self.model: Any = None
        self.tokenizer: Any = None

    def load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = resolve_model(self.model_name)
        with quiet():
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=pick_dtype(self.device, text=True))
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._generate([[self.tokenizer.eos_token_id or 0]], max_new_tokens=2, processors=[], criteria=[])
        if self.continuous:  # its manager starts on first use, in the process that runs the jobs
            self.engine = ChatEngine(self.model, self._engine_config(), self.options)

    def prepare(self, job_input: ChatInput) -> ChatWork:
        """Render and tokenize the conversation; InputError when the template refuses it or it is too long."""
        from jinja2 import TemplateError

        messages = [m.model_dump() for m in job_input.messages]
        try:
            ids = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=True
            )
        except TemplateError as exc:
            raise InputError(f"the model's chat template refuses this conversation: {exc}") from exc
        prompt = list(ids["input_ids"])
        context = int(getattr(self.model.config, "max_position_embeddings", 1 << 30))
        if len(prompt) + job_input.max_tokens > context:
            raise InputError(
                f"the conversation is {len(prompt)} tokens; with max_tokens {job_input.max_tokens} it passes "
                f"the model's context of {context} tokens"
            )
        return ChatWork(input=job_input, prompt=prompt)

    def run(self, batch: Sequence[ChatWork], steps: Steps) -> list[Output | Exception]:
        from worker.pipelines.watch import ReplyWatcher

        replies = [Reply(row, w, TextStream(self.tokenizer, w.input.stops)) for row, w in enumerate(batch)]
        watcher = ReplyWatcher(steps, replies, eos=set(self._eos_ids()), tokenizer=self.tokenizer)
        if self.engine is None:
            self._run_static(batch, watcher)
            steps.checkpoint()
            return [self._output(r) for r in replies]
        from worker.pipelines.follow import EngineRun, outcome

        engine_run = EngineRun(self.engine, watcher)
        engine_run.follow([self._request(w) for w in batch])
        steps.checkpoint()
        return [outcome(r, engine_run.errors) or self._output(r) for r in replies]

    def _request(self, work: ChatWork) -> dict[str, Any]:
        """The engine's request for one job: its limit, eos and sampling (a seed of its own when none)."""
        chat = work.input
        return {
            "max_new_tokens": chat.max_tokens,
            "eos_token_id": self._eos_ids(),
            "temperature": float(chat.temperature),
            "top_p": float(chat.top_p),
            "seed": chat.seed if chat.seed is not None else _random_seed(),
        }

    def _engine_config(self) -> Any:
        from transformers import GenerationConfig

        pad = self.tokenizer.pad_token_id
        return GenerationConfig(do_sample=False, pad_token_id=pad, eos_token_id=self._eos_ids())

    def _run_static(self, batch: Sequence[ChatWork], watcher: Any) -> None:
        from worker.pipelines.sampling import SeededSampler

        chats = [w.input for w in batch]
        sampler = SeededSampler(
            temperatures=[c.temperature for c in chats],
            top_ps=[c.top_p for c in chats],
            seeds=[c.seed if c.seed is not None else _random_seed() for c in chats],
            prompt_len=max(len(w.prompt) for w in batch),
        )
        self._generate(
            [w.prompt for w in batch],
            max_new_tokens=max(c.max_tokens for c in chats),
            processors=[sampler],
            criteria=[watcher],
        )

    def _generate(
        self, prompts: list[list[int]], *, max_new_tokens: int, processors: list[Any], criteria: list[Any]
    ) -> Any:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=pad,
            eos_token_id=self._eos_ids(),
            cache_implementation="static" if self.cache == "static" else None,
        )
        with torch.inference_mode():
            return self.model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                generation_config=config,
                logits_processor=LogitsProcessorList(processors),
                stopping_criteria=StoppingCriteriaList(criteria),
            )

    def _eos_ids(self) -> list[int]:
        eos = self.model.generation_config.eos_token_id
        ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
        return ids or [self.tokenizer.eos_token_id]

    @staticmethod
    def _output(reply: Reply) -> Output:
        completion, prompt = len(reply.tokens), len(reply.work.prompt)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        return Output(
            summary={"text": reply.text.text, "finish_reason": reply.finish or "length", "usage": usage}
        )


def _random_seed() -> int:
    import random

    return random.randrange(2**32)
