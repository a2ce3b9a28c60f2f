"""Gathering a batch: queued jobs the same pipeline call can serve, claimed alongside the first."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.job_record import JobRecord

if TYPE_CHECKING:
    from worker.runtime import WorkerRuntime

log = logging.getLogger(__name__)

# How many waiting jobs to look at per pass, per free place in the batch.
_LOOKAHEAD = 4
_POLL_S = 0.002


def gather(
    rt: WorkerRuntime,
    first: JobRecord,
    *,
    hold: Callable[[JobRecord], None] = lambda _: None,
) -> list[JobRecord]:
    """`first` plus up to batch_max - 1 waiting jobs with its batch key, claimed for this worker.

    Each mate is started with a permit of the queue (JobStore.start_mate), so every delivery still
    finds a job. A job alone in its queue runs at once. With others waiting, gathering goes on
    while compatible jobs keep arriving, until none came for batch_wait_ms (or four times that in
    all): a burst becomes one batch (prefork: the threads pool batches in worker/batcher.py).
    """
    batch = [first]
    quiet_s = rt.settings.batch_wait_ms / 1000
    started = last_growth = time.monotonic()
    after: float | None = None  # the arrival order (waiting-set score) looked at so far
    while len(batch) < rt.settings.batch_max:
        room = rt.settings.batch_max - len(batch)
        waiting = rt.store.waiting_after(first.type, after, room * _LOOKAHEAD)
        if not waiting and after is None:
            break  # nobody else waits: no reason to delay this job
        if waiting:
            after = waiting[-1][1]
        ids = [job_id for job_id, _ in waiting if job_id != first.id]
        claimed, no_permits = _claim_compatible(rt, first, ids, room, hold)
        now = time.monotonic()
        if claimed:
            batch += claimed
            last_growth = now
        if no_permits or now - last_growth >= quiet_s or now - started >= 4 * quiet_s:
            break
        time.sleep(_POLL_S)
    if len(batch) > 1:
        log.info("job %s: batched with %d more (%s)", first.id, len(batch) - 1, first.batch_key)
    return batch


def _claim_compatible(
    rt: WorkerRuntime, first: JobRecord, job_ids: list[str], room: int, hold: Callable[[JobRecord], None]
) -> tuple[list[JobRecord], bool]:
    """Up to `room` of these jobs with `first`'s batch key, each started with a permit; and whether
    the permits ran out (the rest are being delivered and will claim jobs themselves)."""
    claimed: list[JobRecord] = []
    for job_id, key in zip(job_ids, rt.store.batch_keys(job_ids), strict=True):
        if len(claimed) >= room:
            break
        if key != first.batch_key:
            continue
        started = rt.store.start_mate(job_id, first.type, holder=rt.holder, lease_until=rt.leases.deadline())
        if started.no_permit:
            return claimed, True
        if started.record is not None and started.ok:
            hold(started.record)  # its lease is kept from now: it may wait for the device a while
            claimed.append(started.record)
    return claimed, False
