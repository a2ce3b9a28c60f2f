"""Deciding what a delivered task means: start the job, take it over, fail it, or drop it."""

from __future__ import annotations

import os
import socket
import time
import uuid
from enum import Enum

from shared.errors import NotFoundError
from shared.jobs import ErrorInfo, JobRecord, JobStatus
from shared.leases import Leases
from shared.store import JobStore


class Decision(Enum):
    """What to do with a delivered job."""

    START = "start"
    FAIL_LOST = "fail_lost"
    SKIP = "skip"


def new_holder_id() -> str:
    """This process's identity as a lease holder: host, pid and a nonce for pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str, *, me: str) -> bool:
    """True when the holder is known to be gone: this very process, or a dead pid on this host."""
    if holder == me:
        return True
    host, _, rest = holder.partition(":")
    if host != socket.gethostname():
        return False
    pid = int(rest.partition(":")[0] or 0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def decide(record: JobRecord, *, me: str, max_attempts: int, now: float) -> Decision:
    """Terminal jobs and jobs a live worker holds are dropped; lost ones are taken or failed."""
    if record.status == JobStatus.QUEUED:
        return Decision.START
    if record.status != JobStatus.RUNNING:
        return Decision.SKIP
    lost = not record.holder or record.lease_until < now or holder_is_dead(record.holder, me=me)
    if not lost:
        return Decision.SKIP
    return Decision.START if record.attempts < max_attempts else Decision.FAIL_LOST


def claim(
    store: JobStore, leases: Leases, job_id: str, *, me: str, max_attempts: int, queue: str | None = None
) -> JobRecord | None:
    """Take the job for this worker, or None when it is not ours to run.

    With its queue known, a still-queued job (the usual case) is taken in one round trip.
    """
    if queue is not None:
        started = _start(store, leases, job_id, me=me, queue=queue, only_from=JobStatus.QUEUED)
        if started is not None:
            return started
    for _ in range(3):  # a concurrent change makes us look again
        try:
            record = store.get(job_id)
        except NotFoundError:
            return None
        decision = decide(record, me=me, max_attempts=max_attempts, now=time.time())
        if decision is Decision.SKIP:
            return None
        if decision is Decision.FAIL_LOST:
            error = ErrorInfo(
                code="worker_lost", message=f"the worker was lost {record.attempts} times running this job"
            )
            store.transition(
                job_id, JobStatus.FAILED, expect_holder=record.holder, error=error, queue=record.type.value
            )
            return None
        started = _start(store, leases, job_id, me=me, queue=record.type.value, expect_holder=record.holder)
        if started is not None:
            return started
    return None


def _start(
    store: JobStore,
    leases: Leases,
    job_id: str,
    *,
    me: str,
    queue: str,
    expect_holder: str = "*",
    only_from: JobStatus | None = None,
) -> JobRecord | None:
    """The job running under this worker's lease (one more attempt), or None if its state moved on."""
    started = store.transition(
        job_id,
        JobStatus.RUNNING,
        expect_holder=expect_holder,
        only_from=only_from,
        fields={"holder": me, "progress": None},
        incr_attempts=True,
        lease_until=leases.deadline(),
        queue=queue,
    )
    return started.record if started.ok else None
