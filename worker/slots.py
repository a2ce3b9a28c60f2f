"""How many deliveries one worker runs at once, and the lane each job type's deliveries take to the device.

With `LLMB_WORKER_POOL=threads` (the default) one process owns the device and loads each pipeline once;
Celery delivers permits into it on as many threads as `deliveries` says, prefetching one message a
thread (worker_prefetch_multiplier 1), so a busy worker holds no more permits than it can run.
- A pipeline that batches on its own (`concurrent`: the continuous chat engine) takes every
  delivery as it comes: each job joins the running batch, so the worker has a thread per place in
  the engine's batch.
- Any other pipeline's jobs meet in its micro-batcher (worker/batcher.py): by default a worker
  has threads for two batches of each (one on the device, the next one forming). Every delivery
  claims its job at once: a permit is never held unused, so a worker killed with deliveries in
  hand leaves only running jobs behind, which the reaper puts back in line.
With `LLMB_WORKER_POOL=prefork` each pool process runs one delivery at a time and gathers its batch mates
from the store itself (worker/batching.py): a model that may crash its process takes only that
pool process with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.job_record import JobType
from shared.settings import Settings
from worker.batcher import MicroBatcher
from worker.pipelines.engine import chat_places


def deliveries(settings: Settings) -> int:
    """Deliveries one worker runs at once: `LLMB_CONCURRENCY`, else sized to its pipelines.

    prefork: one pool process. threads: per queue, the chat engine's places (continuous engine,
    worker/pipelines/engine.py:chat_places),
    or the batches on the device plus one forming (`(LLMB_DEVICE_BATCHES + 1) * LLMB_BATCH_MAX`)
    for a batched pipeline, summed.
    """
    if settings.concurrency is not None:
        return settings.concurrency
    if settings.worker_pool == "prefork":
        return 1
    return sum(
        chat_places(settings.chat_max_requests)
        if t == JobType.CHAT and settings.chat_engine == "continuous"
        else (settings.device_batches + 1) * settings.batch_max
        for t in settings.job_types
    )


def door_slots(settings: Settings) -> int:
    """Interactive jobs a worker claims past its busy threads at once (worker/interactive.py): a batch's
    worth (`LLMB_BATCH_MAX`) under the threads pool; none under prefork or a set `LLMB_CONCURRENCY`
    (one process a job, or a number of jobs at once the operator chose)."""
    if settings.worker_pool == "prefork" or settings.concurrency is not None:
        return 0
    return max(1, settings.batch_max)


def runs_alone(settings: Settings, pipeline: Any) -> bool:
    """Whether each delivery runs its one job straight into the pipeline (it batches them itself)."""
    return settings.worker_pool == "threads" and bool(getattr(pipeline, "concurrent", False))


@dataclass
class Lane:
    """One batched job type's way to the device: its micro-batcher."""

    batcher: MicroBatcher[Any]


class Lanes:
    """Each batched job type's lane in this process, made on first need."""

    def __init__(self, settings: Settings, others_waiting: Callable[[JobType], bool]) -> None:
        self.settings = settings
        self.others_waiting = others_waiting
        self._lanes: dict[JobType, Lane] = {}
        self._lock = threading.Lock()

    def get(self, job_type: JobType) -> Lane:
        """The lane of `job_type`."""
        with self._lock:
            if job_type not in self._lanes:
                batch_max = max(1, self.settings.batch_max)
                batcher: MicroBatcher[Any] = MicroBatcher(
                    batch_max=batch_max,
                    wait_s=self.settings.batch_wait_ms / 1000,
                    others_waiting=lambda: self.others_waiting(job_type),
                    device_slots=self.settings.device_batches,
                )
                self._lanes[job_type] = Lane(batcher)
            return self._lanes[job_type]
