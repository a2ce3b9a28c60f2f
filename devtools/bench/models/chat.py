"""Direct chat throughput: `generate` with each KV cache over batch sizes, then the worker's chat pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from devtools.bench.models.direct import Point, best, check, run_direct, settings_for, sweep, timed
from devtools.bench.models.plan import CHAT_PROMPT, TEMPERATURE, TOP_P, Plan, rate
from devtools.bench.models.shapes import Shapes
from shared.inputs import ChatInput


@dataclass
class ChatResults:
    """The sweeps per cache, the best configuration's rate with the sampler, and the worker pipeline's."""

    raw: dict[str, list[Point]]
    best: Point
    sampler: Point
    pipeline: Point
    seeds: list[int]  # seeds whose replies ran to max_tokens in the worker pipeline
    full: int  # of the replies the pipeline generated, how many ran to max_tokens
    replies: int
    prompt_tokens: int


class ChatBench:
    """The worker's chat pipeline, loaded once, with plain `generate` calls on its model beside it."""

    def __init__(self, shapes: Shapes, *, plan: Plan, device: str) -> None:
        from worker.pipelines.chat import TransformersChatPipeline

        self.plan = plan
        self.device = device
        self.pipeline = TransformersChatPipeline(settings_for(shapes, device))
        self.pipeline.load()
        tokenizer = self.pipeline.tokenizer
        messages = [{"role": "user", "content": CHAT_PROMPT}]
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True
        )
        self.prompt = list(ids["input_ids"])

    def raw(self, cache: str, *, sampler: bool = False) -> Callable[[int], Callable[[], float]]:
        """Calls of `generate` that always decode max_tokens (end-of-text suppressed), per batch size."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        model, tokens = self.pipeline.model, self.plan.max_tokens
        config = GenerationConfig(
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            do_sample=False,
            pad_token_id=self.pipeline.tokenizer.pad_token_id,
            eos_token_id=model.generation_config.eos_token_id,
            cache_implementation="static" if cache == "static" else None,
        )

        def for_batch(batch: int) -> Callable[[], float]:
            input_ids = torch.tensor([self.prompt] * batch, device=self.device)
            mask = torch.ones_like(input_ids)
            processors = self._sampler(batch) if sampler else []

            def call() -> float:
                with torch.inference_mode():
                    out = model.generate(
                        input_ids=input_ids,
                        attention_mask=mask,
                        generation_config=config,
                        logits_processor=LogitsProcessorList(processors),
                    )
                return float((out.shape[1] - len(self.prompt)) * batch)

            return call

        return for_batch

    def _sampler(self, batch: int) -> list[Any]:
        """The worker's per-row sampler, as its chat pipeline sets it up for a batch of these jobs."""
        from worker.pipelines.sampling import SeededSampler

        return [
            SeededSampler(
                temperatures=[TEMPERATURE] * batch,
                top_ps=[TOP_P] * batch,
                seeds=list(range(batch)),
                prompt_len=len(self.prompt),
            )
        ]

    def in_pipeline(
        self, cache: Literal["dynamic", "static"], batch: int
    ) -> tuple[Point, list[int], int, int]:
        """The worker pipeline over candidate seeds, batch by batch: its rate and the full-length seeds."""
        self.pipeline.cache = cache
        warm_up = [ChatInput.model_validate(self.plan.chat_input(10**7 + n)) for n in range(batch)]
        check(run_direct(self.pipeline, warm_up))
        seeds: list[int] = []
        wanted, generated, replies, elapsed = self.plan.jobs, 0, 0, 0.0
        start_seed = 0
        while len(seeds) < wanted and start_seed < 8 * wanted + batch:
            chunk = list(range(start_seed, start_seed + batch))
            start_seed += batch
            inputs = [ChatInput.model_validate(self.plan.chat_input(seed)) for seed in chunk]
            began = time.perf_counter()
            outputs = check(run_direct(self.pipeline, inputs))
            elapsed += time.perf_counter() - began
            counts = [o.summary["usage"]["completion_tokens"] for o in outputs]
            generated += sum(counts)
            replies += len(counts)
            seeds += [s for s, n in zip(chunk, counts, strict=True) if n == self.plan.max_tokens]
        point = Point(f"chat pipeline {cache}", batch, generated / elapsed, elapsed / (replies / batch))
        return point, seeds[:wanted], len(seeds), replies


def bench_chat(shapes: Shapes, *, plan: Plan, device: str) -> ChatResults:
    """Sweep `generate` per cache and batch size, then time the best with the sampler and in the pipeline."""
    bench = ChatBench(shapes, plan=plan, device=device)
    raw = {cache: sweep(f"chat {cache}", bench.raw(cache), plan=plan, device=device) for cache in plan.caches}
    top = best([p for points in raw.values() for p in points])
    cache = top.config.removeprefix("chat ")
    sampler = timed(
        f"chat {cache} + sampler",
        top.batch,
        bench.raw(cache, sampler=True)(top.batch),
        plan=plan,
        device=device,
    )
    print(f"  chat {cache} + sampler batch {top.batch}: {rate(sampler.rate)}/s", flush=True)
    pipeline, seeds, full, replies = bench.in_pipeline(cast(Literal["dynamic", "static"], cache), top.batch)
    print(
        f"  chat pipeline batch {top.batch}: {rate(pipeline.rate)}/s; {full} of {replies} full length",
        flush=True,
    )
    return ChatResults(raw, top, sampler, pipeline, seeds, full, replies, len(bench.prompt))
