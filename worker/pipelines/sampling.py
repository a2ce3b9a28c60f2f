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
    return _noise(_seed_keys(seeds), _token_keys(vocab, seeds.device), step)


def _seed_keys(seeds: torch.Tensor) -> torch.Tensor:
    return _mix((seeds & _M31) ^ _mix((seeds >> 31) + 0x1234567))


def _token_keys(vocab: int, device: torch.device) -> torch.Tensor:
    return (torch.arange(vocab, device=device, dtype=torch.int64) * 0x27D4EB2D) & _M31


def _noise(seed_keys: torch.Tensor, token_keys: torch.Tensor, step: int) -> torch.Tensor:
    row = _mix((seed_keys + step * 0x3C6EF35) & _M31)
    bits = _mix(row[:, None] ^ token_keys[None, :])
    return ((bits.to(torch.float32) + 0.5) / 2**31).clamp(1e-7, 1 - 1e-7)


class SeededSampler(LogitsProcessor):
    """Turns greedy decoding into per-row sampling: argmax(logits / T + Gumbel noise) over the top-p nucleus.

    That argmax is a draw from the row's softmax(logits / T) restricted to its nucleus; rows with
    temperature 0 stay greedy. The noise comes from the row's own seed and step only.
    """

    def __init__(
        self, *, temperatures: list[float], top_ps: list[float], seeds: list[int], prompt_len: int
    ) -> None:
        self.sampled = [i for i, t in enumerate(temperatures) if t > 0]
        self.temperatures = torch.tensor([temperatures[i] for i in self.sampled], dtype=torch.float32)
        self.top_ps = torch.tensor([top_ps[i] for i in self.sampled], dtype=torch.float32)
        self.seed_keys = _seed_keys(torch.tensor([seeds[i] for i in self.sampled], dtype=torch.int64))
        self.every_row = len(self.sampled) == len(temperatures)
        self.prompt_len = prompt_len
        # The sort for the nucleus is the costly part; skip it when no sampled row narrows it.
        self.nucleus = any(top_ps[i] < 1 for i in self.sampled)
        self.token_keys: torch.Tensor | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        if not self.sampled:
            return scores  # every row greedy: plain argmax
        device = scores.device
        if self.token_keys is None or self.token_keys.device != device:
            self.token_keys = _token_keys(scores.shape[-1], device)
            self.temperatures, self.top_ps = self.temperatures.to(device), self.top_ps.to(device)
            self.seed_keys = self.seed_keys.to(device)
        rows = None if self.every_row else torch.tensor(self.sampled, device=device)
        logits = (scores if rows is None else scores[rows]).float() / self.temperatures[:, None]
        if self.nucleus:
            logits = _nucleus(logits, self.top_ps)
        noise = _noise(self.seed_keys, self.token_keys, input_ids.shape[1] - self.prompt_len)
        sampled = logits - torch.log(-torch.log(noise))
        if rows is None:
            return sampled
        out = scores.float().clone()
        out[rows] = sampled
        return out


def _nucleus(logits: torch.Tensor, top_ps: torch.Tensor) -> torch.Tensor:
    """`logits` with every token outside each row's top-p nucleus set to -inf."""
    ordered, order = logits.sort(dim=-1, descending=True)
    probs = ordered.softmax(dim=-1)
    outside = (probs.cumsum(dim=-1) - probs) > top_ps[:, None]
    return logits.masked_fill(outside.scatter(1, order, outside), float("-inf"))
