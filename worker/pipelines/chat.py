"""Chat with transformers: chat templates, batched decoding, per-job sampling, stops and streamed tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import InputError
from shared.inputs import ChatInput, JobInput
from shared.settings import Settings
from worker.context import Batch, JobItem
from worker.device import pick_device, pick_dtype
from worker.pipelines.base import JobStopped, Output
from worker.pipelines.detok import TextStream
from worker.pipelines.source import quiet, resolve_model

DEFAULT_FOLDER = "tiny-chat"


@dataclass
class Reply:
    """One job's reply while it is decoded."""

    item: JobItem
    prompt: list[int]
    max_tokens: int
    text: TextStream
    finish: str | None = None
    tokens: list[int] = field(default_factory=list)


class TransformersChatPipeline:
    """`AutoModelForCausalLM` with its tokenizer's chat template, loaded once."""

    def __init__(self, settings: Settings) -> None:
        self.model_name = settings.chat_model or str(settings.models_dir / DEFAULT_FOLDER)
        self.device = pick_device(settings.device)
        self.cache = settings.chat_cache
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

    def batch_key(self, job_input: JobInput) -> str:
        return "chat"  # sampling settings, stops and lengths are per row

    def run(self, batch: Batch) -> list[Output | Exception]:
        replies: list[Reply | Exception] = [self._reply(item) for item in batch.items]
        live = [r for r in replies if isinstance(r, Reply)]
        if live:
            self._decode(batch, live)
        if not batch.any_wanted:
            raise JobStopped()
        return [r if isinstance(r, Exception) else self._output(r) for r in replies]

    def _reply(self, item: JobItem) -> Reply | InputError:
        chat = item.input
        assert isinstance(chat, ChatInput)
        messages = [m.model_dump() for m in chat.messages]
        ids = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True
        )
        prompt = list(ids["input_ids"])
        context = int(getattr(self.model.config, "max_position_embeddings", 1 << 30))
        if len(prompt) + chat.max_tokens > context:
            return InputError(
                f"the conversation is {len(prompt)} tokens; with max_tokens {chat.max_tokens} it passes "
                f"the model's context of {context} tokens"
            )
        return Reply(
            item=item, prompt=prompt, max_tokens=chat.max_tokens, text=TextStream(self.tokenizer, chat.stops)
        )

    def _decode(self, batch: Batch, replies: list[Reply]) -> None:
        from worker.pipelines.sampling import SeededSampler
        from worker.pipelines.watch import ReplyWatcher

        prompts = [r.prompt for r in replies]
        width = max(len(p) for p in prompts)
        chats = [r.item.input for r in replies]
        sampler = SeededSampler(
            temperatures=[c.temperature for c in chats],  # type: ignore[union-attr]
            top_ps=[c.top_p for c in chats],  # type: ignore[union-attr]
            seeds=[c.seed if c.seed is not None else _random_seed() for c in chats],  # type: ignore[union-attr]
            prompt_len=width,
        )
        watcher = ReplyWatcher(batch, replies, eos=set(self._eos_ids()), tokenizer=self.tokenizer)
        self._generate(
            prompts,
            max_new_tokens=max(r.max_tokens for r in replies),
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

    def _output(self, reply: Reply) -> Output:
        completion = len(reply.tokens)
        prompt = len(reply.prompt)
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
