"""The per-step hook of batched decoding: stream each reply's text, apply its stops, learn of cancels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import StoppingCriteria

from shared.inputs import ChatInput
from worker.pipelines.base import Steps
from worker.pipelines.detok import TextStream, decode_all


@dataclass(frozen=True)
class ChatWork:
    """One chat job as the pipeline runs it: its input and its rendered, tokenized prompt."""

    input: ChatInput
    prompt: list[int]


@dataclass
class Reply:
    """One row's reply while it is decoded."""

    row: int
    work: ChatWork
    text: TextStream
    finish: str | None = None
    tokens: list[int] = field(default_factory=list)

    @property
    def max_tokens(self) -> int:
        """The most tokens this reply may have."""
        return self.work.input.max_tokens


class ReplyWatcher(StoppingCriteria):
    """Called by `generate` after each new token: True for rows that are done."""

    def __init__(self, steps: Steps, replies: list[Reply], *, eos: set[int], tokenizer: Any) -> None:
        self.steps = steps
        self.replies = replies
        self.eos = eos
        self.tokenizer = tokenizer

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        self.advance(list(zip(self.replies, input_ids[:, -1].tolist(), strict=True)))
        self.check()
        done = [reply.finish is not None for reply in self.replies]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]

    def advance(self, newest: list[tuple[Reply, int]]) -> None:
        """Take one new token for each of some replies: stream its text, apply eos, stops and limits."""
        growing = []
        for reply, token in newest:
            if reply.finish is not None:
                continue
            if token in self.eos:
                self._finish(reply, "stop")
            else:
                reply.tokens.append(token)
                growing.append(reply)
        self._stream(growing)

    def check(self) -> None:
        """Send what is due and learn of stops: a reply whose job must stop ends as "stopped"."""
        self.steps.checkpoint()
        for reply in self.replies:
            if reply.finish is None and not self.steps.wanted(reply.row):
                reply.finish = "stopped"

    def _stream(self, growing: list[Reply]) -> None:
        """Decode every growing reply's new piece in one call, then stream it and apply limits."""
        windows = [w for reply in growing for w in reply.text.add(reply.tokens[-1])]
        texts = decode_all(self.tokenizer, windows) if windows else []
        for i, reply in enumerate(growing):
            self._send(reply, reply.text.accept(texts[2 * i], texts[2 * i + 1]))
            if reply.text.stopped:
                self._finish(reply, "stop")
            elif len(reply.tokens) >= reply.max_tokens:
                self._finish(reply, "length")

    def _finish(self, reply: Reply, reason: str) -> None:
        reply.finish = reason
        self._send(reply, reply.text.flush())
        # The last tokens may have added no text; the finished count is the whole reply (none is
        # reported for an empty reply: "0 of 0" tells a progress bar nothing).
        if reply.tokens:
            self.steps.progress(reply.row, len(reply.tokens), len(reply.tokens))

    def _send(self, reply: Reply, delta: str) -> None:
        if delta:
            self.steps.token(reply.row, delta, count=len(reply.tokens), total=reply.max_tokens)
