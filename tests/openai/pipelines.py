"""A chat pipeline for tests/openai, importable by worker subprocesses through LLMB_CHAT_PIPELINE.

`ForcedChatPipeline` is the real chat pipeline (generate with the tiny model, the seeded sampler, the
reply watcher and its streaming detokenizer), except that a conversation whose last message starts
  "say:TEXT"     is answered with exactly the tokens of TEXT, then end-of-text;
  "say-escaped:TEXT" is answered with TEXT's Python escapes decoded (control characters a user may not send);
  "repeat:TEXT"  is answered with the tokens of TEXT over and over, until max_tokens or a cancel.
The tiny model's byte-level tokenizer encodes every non-ASCII character as byte tokens, so "say:"
sends characters split across tokens through the whole path, and "repeat:" batch mates run as long
as a test needs. Other conversations get the tiny model's own (sampled) reply.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor

from worker.pipelines.base import Output, Steps
from worker.pipelines.chat import TransformersChatPipeline
from worker.pipelines.watch import ChatWork


class ForceTokens(LogitsProcessor):
    """Makes the given rows pick the given tokens, whatever the model and the sampler say."""

    def __init__(self, forced: dict[int, tuple[list[int], bool]], *, prompt_len: int, eos: int) -> None:
        self.forced = forced  # row -> (token ids, repeat them)
        self.prompt_len = prompt_len
        self.eos = eos

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        step = input_ids.shape[1] - self.prompt_len
        for row, (ids, repeat) in self.forced.items():
            token = ids[step % len(ids)] if repeat else ids[step] if step < len(ids) else self.eos
            scores[row] = float("-inf")
            scores[row, token] = 0.0
        return scores


class ForcedChatPipeline(TransformersChatPipeline):
    """The real chat pipeline, whose "say:" and "repeat:" conversations are answered as told.

    It runs the static engine (one `generate` call per batch), where a logits processor of the
    test's own can force tokens; the continuous engine's sampling is tested in tests/worker.
    """

    forcing: ForceTokens | None = None

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.continuous = self.concurrent = False

    def run(self, batch: Sequence[ChatWork], steps: Steps) -> list[Output | Exception]:
        forced = {}
        for row, work in enumerate(batch):
            command, _, text = work.input.messages[-1].content.partition(":")
            if command == "say-escaped":  # "say-escaped:a\\fb" says a, form feed, b
                command, text = "say", codecs.decode(text, "unicode_escape")
            if command in ("say", "repeat"):
                forced[row] = (self.tokenizer.encode(text, add_special_tokens=False), command == "repeat")
        if forced:
            width = max(len(w.prompt) for w in batch)
            self.forcing = ForceTokens(forced, prompt_len=width, eos=self._eos_ids()[0])
        try:
            return super().run(batch, steps)
        finally:
            self.forcing = None

    def _generate(
        self, prompts: list[list[int]], *, max_new_tokens: int, processors: list[Any], criteria: list[Any]
    ) -> Any:
        if self.forcing is not None:
            processors = [*processors, self.forcing]
        return super()._generate(
            prompts, max_new_tokens=max_new_tokens, processors=processors, criteria=criteria
        )
