"""The per-step hook of batched decoding: stream each reply's text, apply its stops, learn of cancels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from transformers import StoppingCriteria

from worker.context import Batch

if TYPE_CHECKING:
    from worker.pipelines.chat import Reply


class ReplyWatcher(StoppingCriteria):
    """Called by `generate` after each new token: True for rows that are done."""

    def __init__(self, batch: Batch, replies: list[Reply], *, eos: set[int]) -> None:
        self.batch = batch
        self.replies = replies
        self.eos = eos

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        newest = input_ids[:, -1].tolist()
        for reply, token in zip(self.replies, newest, strict=True):
            if reply.finish is None:
                self._advance(reply, token)
        self.batch.sync()
        for reply in self.replies:
            if reply.finish is None and not reply.item.ctx.wanted:
                reply.finish = "stopped"
        done = [reply.finish is not None for reply in self.replies]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]

    def _advance(self, reply: Reply, token: int) -> None:
        if token in self.eos:
            reply.finish = "stop"
        else:
            reply.tokens.append(token)
            delta = reply.text.push(token)
            if reply.text.stopped:
                reply.finish = "stop"
            elif len(reply.tokens) >= reply.max_tokens:
                reply.finish = "length"
            self._send(reply, delta)
        if reply.finish is not None:
            self._send(reply, reply.text.flush())
            # The last tokens may have added no text; the finished count is the whole reply.
            reply.item.ctx.progress(len(reply.tokens), len(reply.tokens))

    @staticmethod
    def _send(reply: Reply, delta: str) -> None:
        if delta:
            reply.item.ctx.token(delta, len(reply.tokens), reply.max_tokens)
