"""What a delivery runs: it claims the queue's next job and runs it, alone, in the chat engine's
batch, in a micro-batch with concurrent deliveries (threads), or with mates it gathers (prefork)."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

from shared.errors import ErrorCode
from shared.job_record import JobRecord
from shared.logs import bind, job_fields
from shared.vocabulary import JobType
from worker import cpu_class
from worker.batching import gather
from worker.claim import claim_delivered, claim_next
from worker.finish import fail
from worker.metrics import metrics
from worker.pipelines.base import Pipeline
from worker.retrying import until_redis_answers
from worker.runner import prepare, run_batch
from worker.runtime import WorkerRuntime
from worker.slots import Lane, runs_alone

log = logging.getLogger(__name__)

AnyPipeline = Pipeline[Any, Any]
Hold = Callable[[JobRecord], None]  # keeps a claimed job's lease from its claim on
Claim = Callable[[], JobRecord | None]  # the job a run claims: the queue's next, or none


def run_job(job_id: str, rt: WorkerRuntime, *, job_type: JobType | None = None) -> None:
    """Run one delivery: the queue's next job by the store's order, or nothing when none is ours.

    With threads (worker/slots.py) a job of a batched pipeline meets the jobs of concurrent
    deliveries in its type's micro-batcher, and a chat job joins the engine's running batch; a
    prefork pool process gathers its batch mates from the store. Every log line of the run names
    the job (shared/logs.py; the task's signals forget it after Celery's own last line about it).
    """
    bind(job_id=job_id, type=job_type)
    with _holding(rt) as hold:
        if rt.settings.worker_pool == "prefork":
            _run_gathered(rt, job_id, job_type, hold)
            return
        claim = functools.partial(_claim, rt, job_id, job_type)
        _run_one(rt, claim, hold, lane=_lane(rt, job_type) if job_type is not None else None)


def run_claimed(rt: WorkerRuntime, record: JobRecord) -> None:
    """Run a job claimed without a delivery (worker/interactive.py) as a delivery would run it."""
    bind(**job_fields(record))
    with _holding(rt) as hold:
        _run_one(rt, lambda: record, hold, lane=_lane(rt, record.type))


@contextlib.contextmanager
def _holding(rt: WorkerRuntime) -> Iterator[Hold]:
    """A `hold` that keeps a claimed job's lease from its claim on (it may wait for the device), and
    lets go of every job it held when the run ends, even early (Redis away): no lease outlives its run.

    A run whose first job is a batch job runs in the OS's batch scheduling class (worker/cpu_class.py)."""
    held: list[str] = []
    with contextlib.ExitStack() as scope:  # left last: the class is put back once the leases are let go

        def hold(record: JobRecord) -> None:
            rt.keeper.track(record.id, record.type)
            if not held:
                scope.enter_context(cpu_class.for_priority(record.priority))
            held.append(record.id)

        try:
            yield hold
        finally:
            for held_id in held:
                rt.keeper.untrack(held_id)


def _lane(rt: WorkerRuntime, job_type: JobType) -> Lane | None:
    """The micro-batcher lane of a batched job type; None when its pipeline batches jobs itself."""
    return None if runs_alone(rt.settings, _loaded(rt, job_type)) else rt.lanes.get(job_type)


def _run_gathered(rt: WorkerRuntime, job_id: str, job_type: JobType | None, hold: Hold) -> None:
    """prefork: claim the job, gather waiting jobs with its batch key from the store, run them."""
    record = _claim(rt, job_id, job_type)
    if record is None:
        return
    hold(record)
    pipeline = _pipeline(rt, record)
    if pipeline is None:
        return
    batched = rt.settings.batch_max > 1 and record.batch_key
    records = gather(rt, record, hold=hold) if batched else [record]
    prepared = [p for r in records if (p := prepare(rt, pipeline, r)) is not None]
    if prepared:
        run_batch(rt, pipeline, prepared)


def _run_one(rt: WorkerRuntime, claim: Claim, hold: Hold, *, lane: Lane | None) -> None:
    """threads: claim one job; run it in the chat engine's batch, or in a micro-batch of its lane
    (an interactive job's batch takes the device before batches of batch jobs)."""
    counted = lane is not None
    if lane is not None:
        lane.batcher.arriving(+1)  # a leader waits for a delivery on its way
    try:
        record = claim()
        if record is None:
            return
        hold(record)  # claim_next tracks it already; `hold` lets go of it when the run ends
        pipeline = _pipeline(rt, record)
        if pipeline is None:
            return
        one = prepare(rt, pipeline, record)
        if one is None:
            return
        if lane is None and runs_alone(rt.settings, pipeline):
            run_batch(rt, pipeline, [one])
            return
        batcher = (lane or rt.lanes.get(record.type)).batcher
        key = record.batch_key or f"job:{record.id}"  # a job no other can join runs alone, in turn
        counted, was_counted = False, counted  # submit counts it in, under the batcher's lock
        batcher.submit(
            key,
            one,
            lambda jobs, leave: run_batch(rt, pipeline, jobs, leave),
            arrived=was_counted,
            urgent=record.priority == "interactive",
        )
    finally:
        if counted and lane is not None:
            lane.batcher.arriving(-1)


def _loaded(rt: WorkerRuntime, job_type: JobType) -> AnyPipeline | None:
    """The job type's pipeline, loading it now if need be; None when it cannot load (the claim says why)."""
    try:
        return rt.pipelines.get(job_type)
    except Exception:  # noqa: BLE001 - the job claimed next fails with the reason (_pipeline)
        return None


def _claim(rt: WorkerRuntime, job_id: str, job_type: JobType | None) -> JobRecord | None:
    """The job this delivery runs, started under this process's lease; None (and counted) when none."""
    # Through a Redis outage the claim waits for Redis (up to twice a lease); past that the
    # UnavailableError reaches the task, which hands the message back to the queue.
    within = 2 * rt.settings.lease_ttl_s
    record = until_redis_answers(
        lambda: claim_delivered(rt, job_id, job_type=job_type), within_s=within, what=f"job {job_id}"
    )
    deliveries = metrics().deliveries
    if record is None:
        deliveries.labels(job_type or "", "empty").inc()
        log.info("job %s: nothing to do (none waits; it is finished, or held by a live worker)", job_id)
        return None
    deliveries.labels(record.type, "ran").inc()
    if record.id != job_id:
        log.info("delivery of job %s runs job %s, first in line", job_id, record.id)
    bind(**job_fields(record))
    log.info("job %s: running (attempt %d)", record.id, record.attempts)
    return record


def claim_at_door(rt: WorkerRuntime, job_type: JobType) -> JobRecord | None:
    """The queue's first interactive job, claimed without a delivery (worker/interactive.py) and counted;
    None when a batch job is first in line or no task message is left to spend. Raises UnavailableError."""
    record = claim_next(rt, job_type, door=True)
    if record is None:
        return None
    metrics().deliveries.labels(record.type, "door").inc()
    log.info("job %s: running (attempt %d), claimed at the interactive door", record.id, record.attempts)
    return record


def _pipeline(rt: WorkerRuntime, record: JobRecord) -> AnyPipeline | None:
    """The pipeline for a claimed job; a pipeline that cannot load fails the job with the reason, logged."""
    try:
        return rt.pipelines.get(record.type)
    except Exception as exc:
        log.exception("cannot load the %s pipeline", record.type)
        fail(
            rt,
            record,
            ErrorCode.INTERNAL,
            f"the {record.type} pipeline cannot load: {type(exc).__name__}: {exc}",
        )
        return None
