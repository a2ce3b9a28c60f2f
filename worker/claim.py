"""Deciding what a delivered task means: start the job, take it over, fail it, or drop it."""

from __future__ import annotations

import time
from enum import Enum
from typing import TYPE_CHECKING

from shared.errors import NotFoundError
from shared.jobs import JobRecord, JobStatus, JobType, after_lost_worker, worker_lost
from shared.store.order import Aging
from worker.holder import holder_is_dead

if TYPE_CHECKING:
    from worker.runtime import WorkerRuntime


class Decision(Enum):
    """What to do with a delivered job."""

    START = "start"
    TAKE_OVER = "take_over"
    FAIL_LOST = "fail_lost"
    SKIP = "skip"


def decide(record: JobRecord, *, holder: str, max_attempts: int, now: float) -> Decision:
    """Queued jobs start; a running one whose worker was lost is taken over or failed; others are dropped."""
    if record.status == JobStatus.QUEUED:
        return Decision.START
    if record.status != JobStatus.RUNNING:
        return Decision.SKIP
    lost = not record.holder or record.lease_until < now or holder_is_dead(record.holder, me=holder)
    if not lost:
        return Decision.SKIP
    again = after_lost_worker(record.attempts, max_attempts=max_attempts) == JobStatus.QUEUED
    return Decision.TAKE_OVER if again else Decision.FAIL_LOST


def claim_delivered(rt: WorkerRuntime, job_id: str, *, job_type: JobType | None = None) -> JobRecord | None:
    """The job a delivery runs: the first waiting job of its queue, else the job it names, if ours to run.

    A message is a permit: the store's waiting index decides which job it runs (claim_next), so a
    message whose own job was already claimed (batched with another) still runs the next one.
    When none waits, the message's own job is looked at: a redelivery takes over a lost worker's.
    """
    if job_type is not None:
        aging = Aging(rt.settings.priority_aging_s, rt.settings.priority_aging_every)
        record = rt.store.claim_next(
            job_type, holder=rt.holder, lease_until=rt.leases.deadline(), aging=aging
        )
        if record is not None:
            return record
    return claim(rt, job_id)


def claim(rt: WorkerRuntime, job_id: str, *, job_type: JobType | None = None) -> JobRecord | None:
    """Take the job for this worker, or None when it is not ours to run.

    With its type known (the queue it came from), a still-queued job is taken in one round trip.
    """
    lease = rt.leases.deadline
    if job_type is not None:
        started = rt.store.start(job_id, job_type, holder=rt.holder, lease_until=lease())
        if started is not None:
            return started
    for _ in range(3):  # a concurrent change makes us look again
        try:
            record = rt.store.get(job_id)
        except NotFoundError:
            return None
        decision = decide(record, holder=rt.holder, max_attempts=rt.settings.max_attempts, now=time.time())
        if decision is Decision.SKIP:
            return None
        if decision is Decision.FAIL_LOST:
            rt.store.fail(job_id, record.type, worker_lost(record.attempts), holder=record.holder)
            return None
        taking_over = record.holder if decision is Decision.TAKE_OVER else None
        started = rt.store.start(
            job_id, record.type, holder=rt.holder, lease_until=lease(), taking_over=taking_over
        )
        if started is not None:
            return started
    return None
