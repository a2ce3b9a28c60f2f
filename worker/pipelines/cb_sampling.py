"""Per-request sampling inside the continuous-batching manager, with noise that never depends on the batch.

The manager's own sampler draws from one global generator, so a reply would depend on its batch
mates. Instead the manager runs greedy (argmax) and these processors turn argmax into a draw:
logits / T, cut to the top-p nucleus, plus Gumbel noise hashed from the request's seed and the
position of the token in its sequence (worker/pipelines/sampling.py's hash). argmax of that is a
draw from softmax(logits / T) over the nucleus that depends only on (seed, position, logits).
A request with temperature 0 stays greedy. The manager gives each processor one int32 per row.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from transformers.generation.continuous_batching.cb_logits_processors import (
    ContinuousBatchingLogitsProcessor,
)

from worker.pipelines.sampling import _M31, _mix, _nucleus, _seed_keys, _token_keys

GREEDY = -1  # the row key of a request that does not sample


class SeededTemperature(ContinuousBatchingLogitsProcessor):
    """Divides each sampled row's logits by its temperature (greedy rows are left as they are)."""

    supported_kwargs: ClassVar[dict[str, type]] = {"temperature": float}
    ignored_kwargs: tuple[str, ...] = ()

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        int32_tensor.copy_(torch.ones_like(int32_tensor, dtype=torch.float32).view(torch.int32))

    def prepare_tensor_args(self, requests_with_new_token: list[Any]) -> torch.Tensor:
        data = [
            float(r.state.logit_processor_kwargs.get("temperature", 0.0)) or 1.0
            for r in requests_with_new_token
        ]
        return torch.tensor(data, dtype=torch.float32).view(torch.int32)

    def __call__(self, scores: torch.Tensor, tensor_arg: torch.Tensor) -> torch.Tensor:
        return scores / tensor_arg[: scores.size(0)].view(torch.float32).unsqueeze(-1)


class SeededTopP(ContinuousBatchingLogitsProcessor):
    """Sets every token outside each row's top-p nucleus to -inf (a row with top_p 1 keeps all)."""

    supported_kwargs: ClassVar[dict[str, type]] = {"top_p": float}
    ignored_kwargs: tuple[str, ...] = ()

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        int32_tensor.copy_(torch.ones_like(int32_tensor, dtype=torch.float32).view(torch.int32))

    def prepare_tensor_args(self, requests_with_new_token: list[Any]) -> torch.Tensor:
        data = [float(r.state.logit_processor_kwargs.get("top_p", 1.0)) for r in requests_with_new_token]
        return torch.tensor(data, dtype=torch.float32).view(torch.int32)

    def __call__(self, scores: torch.Tensor, tensor_arg: torch.Tensor) -> torch.Tensor:
        top_ps = tensor_arg[: scores.size(0)].view(torch.float32)
        if bool((top_ps >= 1).all()):
            return scores  # the sort for the nucleus is the costly part
        return _nucleus(scores, top_ps)


class SeededNoise(ContinuousBatchingLogitsProcessor):
    """Adds Gumbel noise keyed by (seed, position) to each sampled row, so argmax samples."""

    supported_kwargs: ClassVar[dict[str, type]] = {"seed": int, "temperature": float}
    ignored_kwargs: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.token_keys: torch.Tensor | None = None

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        int32_tensor.fill_(GREEDY)

    def prepare_tensor_args(self, requests_with_new_token: list[Any]) -> torch.Tensor:
        return torch.tensor([row_key(r.state) for r in requests_with_new_token], dtype=torch.int32)

    def __call__(self, scores: torch.Tensor, tensor_arg: torch.Tensor) -> torch.Tensor:
        keys = tensor_arg[: scores.size(0)].to(torch.int64)
        sampled = keys != GREEDY
        if not bool(sampled.any()):
            return scores
        if self.token_keys is None or self.token_keys.device != scores.device:
            self.token_keys = _token_keys(scores.size(-1), scores.device)
        bits = _mix(keys[:, None] ^ self.token_keys[None, :])
        noise = ((bits.to(torch.float32) + 0.5) / 2**31).clamp(1e-7, 1 - 1e-7)
        noisy = scores - torch.log(-torch.log(noise))
        return torch.where(sampled[:, None], noisy, scores)


def row_key(state: Any) -> int:
    """The 31-bit noise key of a request's next token: its seed mixed with the token's position."""
    kwargs = state.logit_processor_kwargs
    if float(kwargs.get("temperature", 0.0)) <= 0:
        return GREEDY
    seed_key = _seed_keys(torch.tensor([int(kwargs.get("seed", 0))], dtype=torch.int64))
    # position_offset is the sequence length once this step's tokens are in: the sampled token's place.
    return int(_mix((seed_key + state.position_offset * 0x3C6EF35) & _M31)[0])


def install(manager: Any) -> None:
    """Give a manager (before `start`) our per-request sampling processors, replacing any of its own."""
    from transformers import LogitsProcessorList

    processors = manager.logit_processor
    processors.logits_processor = LogitsProcessorList([SeededTemperature(), SeededTopP(), SeededNoise()])
    processors.tensors_required = 3
    processors._retrieve_processors_kwargs()
    processors.do_processing = True
