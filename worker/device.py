"""Which torch device and dtype the worker's pipelines use."""

from __future__ import annotations

from typing import Any


def pick_device(choice: str) -> str:
    """CUDA, else Apple MPS, else CPU, unless the settings force one."""
    import torch

    if choice != "auto":
        return choice
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, *, text: bool = False) -> Any:
    """Half precision on CUDA (bfloat16 for language models where the card has it), else full."""
    import torch

    if device != "cuda":
        return torch.float32  # CPU half precision is slow and lossy
    if text and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def sample_memory(observe: Any) -> None:
    """Hand `observe` (the worker's metrics' `device_memory_now`) torch when this process uses CUDA."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        observe(torch)


def is_out_of_memory(exc: BaseException) -> bool:
    """True when a model call failed for lack of device memory."""
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()
