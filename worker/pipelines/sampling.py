"""Per-job sampling inside a batch: temperature, top-p and a seed whose noise never depends on the batch."""

from __future__ import annotations

from typing import Any

import torch
from transformers import LogitsProcessor

_M31 = 0x7FFFFFFF


def _mix(x: torch.Tensor) -> torch.Tensor:
    # An integer hash kept inside 31 bits, so every product fits in int64 on any device.
    x = (((x >> 16) ^ x) * 0x45D9F3B) & _M31
    x = (((x >> 16) ^ x) * 0x45D9F3B) & _M31
    return (x >> 16) ^ x


def uniform_noise(seeds: torch.Tensor, step: int, vocab: int) -> torch.Tensor:
    """Uniform (0, 1) noise of shape [rows, vocab], a pure function of (seed, step, token)."""
    idx = torch.arange(vocab, device=seeds.device, dtype=torch.int64)
    base = _mix((seeds & _M31) ^ _mix((seeds >> 31) + 0x1234567))
    row = _mix((base + step * 0x3C6EF35) & _M31)
    bits = _mix((row[:, None] ^ ((idx[None, :] * 0x27D4EB2D) & _M31)) & _M31)
    return ((bits.to(torch.float32) + 0.5) / 2**31).clamp(1e-7, 1 - 1e-7)


class SeededSampler(LogitsProcessor):
    """Turns greedy decoding into per-row sampling: argmax(logits / T + Gumbel noise) over the top-p nucleus.

    That argmax is a draw from the row's softmax(logits / T) restricted to its nucleus; rows with
    temperature 0 stay greedy. The noise comes from the row's own seed and step only.
    """

    def __init__(
        self, *, temperatures: list[float], top_ps: list[float], seeds: list[int], prompt_len: int
    ) -> None:
        self.temperatures = torch.tensor(temperatures, dtype=torch.float32)
        self.top_ps = torch.tensor(top_ps, dtype=torch.float32)
        self.seeds = torch.tensor(seeds, dtype=torch.int64)
        self.prompt_len = prompt_len
        self.sampled = [i for i, t in enumerate(temperatures) if t > 0]
        # The sort for the nucleus is the costly part; skip it when no sampled row narrows it.
        self.nucleus = any(top_ps[i] < 1 for i in self.sampled)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        if not self.sampled:
            return scores  # every row greedy: plain argmax
        rows = torch.tensor(self.sampled, device=scores.device)
        logits = scores[rows].float() / self.temperatures.to(scores.device)[rows, None]
        if self.nucleus:
            logits = _nucleus(logits, self.top_ps.to(scores.device)[rows])
        step = input_ids.shape[1] - self.prompt_len
        noise = uniform_noise(self.seeds.to(scores.device)[rows], step, scores.shape[-1])
        out = scores.float().clone()
        out[rows] = logits - torch.log(-torch.log(noise))
        return out


def _nucleus(logits: torch.Tensor, top_ps: torch.Tensor) -> torch.Tensor:
    """`logits` with every token outside each row's top-p nucleus set to -inf."""
    ordered, order = logits.sort(dim=-1, descending=True)
    probs = ordered.softmax(dim=-1)
    outside = (probs.cumsum(dim=-1) - probs) > top_ps[:, None]
    return logits.masked_fill(outside.scatter(1, order, outside), float("-inf"))
