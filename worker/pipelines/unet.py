"""The image pipeline's UNet speed options: channels_last memory and torch.compile (LLMB_IMAGE_*).

As diffusers' "Accelerate inference" guide does it (https://huggingface.co/docs/diffusers/optimization/fp16,
"torch.compile"): the UNet and the VAE to `torch.channels_last`, then `pipe.unet = torch.compile(pipe.unet,
mode=...)`. We compile with `fullgraph=False` (a graph break runs that part eagerly instead of failing)
and leave the VAE's decode uncompiled: one decode per image against a UNet call per step. torch's own
dynamic shapes apply: the warm-up compiles for its 64×64 call, and a job of another size or batch size
recompiles on its first run (torch then marks those sizes dynamic, though a few guards, such as
diffusers' upsampler's at batch 64, recompile again); past torch's recompile limit a call runs eagerly.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from shared.image_options import CompileMode

log = logging.getLogger(__name__)
T = TypeVar("T")


class OneThread:
    """Runs every call on one thread of its own when `on` (else in the caller's), in the caller's context.

    torch keeps CUDA graphs (`reduce-overhead`, `max-autotune` on CUDA) per thread, and the threads pool
    runs each batch on the thread of the delivery that leads it: a compiled UNet called from one thread
    records its graphs once, not once per Celery thread (and pytorch/pytorch#123177: graphs across
    threads are not supported). Batches then take turns on that thread whatever LLMB_DEVICE_BATCHES says.
    """

    def __init__(self, *, on: bool) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unet") if on else None
        self.ident: int | None = None  # the thread's, once it ran something

    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)`, raising what it raises (a job stopped at a step included)."""
        if self.pool is None or threading.get_ident() == self.ident:  # already on it: a nested call
            return fn(*args, **kwargs)
        return self.pool.submit(contextvars.copy_context().run, self._on_it, fn, args, kwargs).result()

    def _on_it(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        self.ident = threading.get_ident()
        return fn(*args, **kwargs)


def to_channels_last(pipe: Any) -> None:
    """Put the UNet's and the VAE's weights in channels_last memory format (convolutions' NHWC layout)."""
    import torch

    pipe.unet.to(memory_format=torch.channels_last)
    pipe.vae.to(memory_format=torch.channels_last)


def compile_unet(pipe: Any, mode: CompileMode) -> None:
    """Replace the pipeline's UNet by its torch.compile wrapper; nothing is compiled until it is called."""
    import torch

    pipe.unet = torch.compile(pipe.unet, mode=mode, fullgraph=False)


def warm_up(pipe: Any, mode: CompileMode, call: Callable[[Any], object]) -> None:
    """Call `call(pipe)` once, compiling the UNet first unless `mode` is "off" (the compile lands there).

    A compile that fails (no C++ compiler for inductor, an operator its backend lacks) is logged as a
    warning naming LLMB_IMAGE_COMPILE, and the UNet runs eagerly: the setting only trades start-up time
    for speed, so the worker still serves, at the speed it has without it. Raises whatever the eager
    call raises (a broken model fails the load as it would without the setting).
    """
    if mode != "off":
        eager = pipe.unet
        try:
            compile_unet(pipe, mode)
            call(pipe)
            return
        except Exception as exc:  # any compile failure falls back; an eager failure re-raises below
            log.warning(
                "LLMB_IMAGE_COMPILE=%s: compiling the image pipeline's UNet failed, so it runs uncompiled "
                "(eager), as with LLMB_IMAGE_COMPILE=off: %s: %s",
                mode,
                type(exc).__name__,
                " ".join(str(exc).split())[:500],
                exc_info=True,
            )
            pipe.unet = eager
    call(pipe)
