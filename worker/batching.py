"""Gathering a batch: queued jobs the same pipeline call can serve, claimed alongside the first."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from shared.jobs import JobRecord

if TYPE_CHECKING:
    from worker.runtime import WorkerRuntime

log = logging.getLogger(__name__)

# How many waiting jobs to look at per pass, per free place in the batch.
_LOOKAHEAD = 4
_POLL_S = 0.002


def gather(rt: WorkerRuntime, first: JobRecord) -> list[JobRecord]:
    """`first` plus up to batch_max - 1 waiting jobs with its batch key, claimed for this worker.

    A job alone in its queue runs at once. With others waiting, gathering goes on while
    compatible jobs keep arriving: it stops once none came for batch_wait_ms (or after four
    times that in all), so a burst posted over some milliseconds becomes one batch.
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
        claimed = _claim_compatible(rt, first, [job_id for job_id, _ in waiting if job_id != first.id], room)
        now = time.monotonic()
        if claimed:
            batch += claimed
            last_growth = now
        if now - last_growth >= quiet_s or now - started >= 4 * quiet_s:
            break
        time.sleep(_POLL_S)
    if len(batch) > 1:
        # Each job came with a permit (its Celery message): the mates' permits are spent here, so no
        # later delivery finds its job gone. One already delivered elsewhere runs the next in line.
        spent = rt.store.take_permits(first.type, len(batch) - 1)
        log.info(
            "job %s: batched with %d more (%s); %d of their permits taken back",
            first.id,
            len(batch) - 1,
            first.batch_key,
            spent,
        )
    return batch


def _claim_compatible(rt: WorkerRuntime, first: JobRecord, job_ids: list[str], room: int) -> list[JobRecord]:
    claimed: list[JobRecord] = []
    for job_id, key in zip(job_ids, rt.store.batch_keys(job_ids), strict=True):
        if len(claimed) >= room:
            break
        if key != first.batch_key:
            continue
        record = rt.store.start(job_id, first.type, holder=rt.holder, lease_until=rt.leases.deadline())
        if record is not None:
            claimed.append(record)
    return claimed
