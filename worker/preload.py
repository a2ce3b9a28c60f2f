"""Loading the pipelines once in the worker's main process, before its pool processes fork.

A pool process that replaces a killed one then starts with its pipelines already in memory (shared
copy-on-write) instead of loading them again. It works on the CPU only: CUDA cannot be used across a
fork, so on a GPU each pool process loads its own (`auto` decides by the device). torch's OpenMP
thread pool does not survive a fork either (forked children hung in every try), so the main process
loads with one thread and each pool process gets the usual thread count back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.settings import Settings
from worker.device import pick_device
from worker.runtime import PipelineSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preloaded:
    """Pipelines loaded before the fork, and the torch thread count pool processes get back."""

    pipelines: PipelineSet
    threads: int

    def adopt(self) -> None:
        """In a pool process: use the usual number of torch threads again."""
        import torch

        torch.set_num_threads(self.threads)


def wanted(settings: Settings) -> bool:
    """Whether to preload: as set, or under `auto` when the pipelines run on the CPU."""
    if settings.preload != "auto":
        return settings.preload == "on"
    return pick_device(settings.device) == "cpu"


def preload(settings: Settings) -> Preloaded | None:
    """Load every pipeline the worker serves in this (main) process; None when not wanted or it failed."""
    if not wanted(settings):
        return None
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pipelines = PipelineSet(settings)
    try:
        for job_type in settings.job_types:
            pipelines.get(job_type)
    except Exception:  # the pool processes load (and report) it themselves
        log.exception("preloading failed; each pool process loads its own pipelines")
        torch.set_num_threads(threads)
        return None
    log.info("pipelines loaded before the pool starts: %s", ",".join(settings.job_types))
    return Preloaded(pipelines, threads)
