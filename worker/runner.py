"""Running claimed jobs: prepare each job, run the pipeline on the batch, finish each job on its own."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded

from shared.errors import InputError, ResourceExhaustedError, UnavailableError
from shared.inputs import parse_input
from shared.job_record import JobRecord
from shared.logs import job_fields
from shared.messages import listed
from shared.vocabulary import ErrorCode
from worker import cpu_class
from worker.device import is_out_of_memory, sample_memory
from worker.finish import fail, finish
from worker.metrics import metrics
from worker.pipelines.base import JobStopped, Output, Pipeline
from worker.retrying import until_redis_answers
from worker.runtime import WorkerRuntime
from worker.steps import RunningBatch, RunningJob
from worker.usage import batch_usage

log = logging.getLogger(__name__)

AnyPipeline = Pipeline[Any, Any]
Hold = Callable[[JobRecord], None]  # keeps a claimed job's lease from its claim on


@dataclass(frozen=True)
class Prepared:
    """A claimed job ready to join a batch: its record, the pipeline's work for it, its running state."""

    record: JobRecord
    work: object
    job: RunningJob
    prepared_at: float  # time.monotonic(): the wait from here to the device does not count against its limit


def prepare(rt: WorkerRuntime, pipeline: AnyPipeline, record: JobRecord) -> Prepared | None:
    """Parse the job's input (once) and let the pipeline prepare it; a job it refuses fails alone."""
    try:
        work = pipeline.prepare(parse_input(record.type, record.input, rt.settings.limits))
    except InputError as exc:
        fail(rt, record, ErrorCode.INVALID_INPUT, listed(exc))
        return None
    except Exception as exc:  # the job fails with the reason; its batch mates go on
        log.exception("job %s: cannot be prepared", record.id, extra=job_fields(record))
        fail(rt, record, ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}")
        return None
    elapsed = time.time() - (record.started_at or time.time())
    limit_at = time.monotonic() + rt.settings.job_time_limit_s - elapsed
    job = RunningJob(record.id, holder=rt.holder, time_limit_at=limit_at, deadline_at=record.deadline_at)
    return Prepared(record, work, job, time.monotonic())


def run_batch(
    rt: WorkerRuntime,
    pipeline: AnyPipeline,
    prepared: list[Prepared],
    leave_device: Callable[[], None] = lambda: None,
) -> None:
    """Run prepared jobs of one type in one pipeline call, then finish each on its own.

    `leave_device` is called once the pipeline call is over (the micro-batcher's leader holds the
    device until then), so the next batch runs while these jobs store their results.
    """
    job_type = prepared[0].record.type
    batch = RunningBatch(
        [p.job for p in prepared],
        rt.leases,
        interval_s=rt.settings.event_interval_ms / 1000,
        job_type=job_type,
    )
    with _running(rt, prepared):
        began = time.monotonic()
        for p in prepared:  # a job's time limit is its time on the device, not its wait for it
            p.job.time_limit_at += began - p.prepared_at
        outputs = _run(pipeline, [p.work for p in prepared], batch)
        # The batch's device time, shared by the jobs' work (worker/usage.py).
        device_s = time.monotonic() - began
        leave_device()
        used = batch_usage(device_s, [(p.record, o) for p, o in zip(prepared, outputs, strict=True)])
        # The last tokens and progress land before each job's final status, Redis allowing.
        with contextlib.suppress(UnavailableError):
            until_redis_answers(
                lambda: _sent(batch), within_s=rt.settings.lease_ttl_s, what="the last reports"
            )
        # Each job on its own, side by side: one failed or slow write strands no other, uploads overlap.
        ends = zip(prepared, outputs, used, strict=True)
        list(rt.finishers.map(lambda end: _finish(rt, *end), ends))


def _finish(rt: WorkerRuntime, p: Prepared, output: Output | Exception, used: dict[str, float]) -> None:
    """Finish one job of the batch on a finisher thread, a batch job's in the OS's batch class."""
    with cpu_class.for_priority(p.record.priority):
        finish(rt, p.record, p.job.stop, output, used)


@contextlib.contextmanager
def _running(rt: WorkerRuntime, prepared: list[Prepared]) -> Iterator[None]:
    """Keep the jobs' leases while the batch runs; log it and count it in the worker's metrics."""
    job_type, ids = prepared[0].record.type, [p.record.id for p in prepared]
    log.info("batch of %d %s jobs: %s", len(ids), job_type, " ".join(ids), extra={"job_ids": ids})
    worker_metrics = metrics()
    worker_metrics.batch_size.labels(job_type).observe(len(ids))
    busy = worker_metrics.busy.labels(job_type)
    busy.inc()
    for p in prepared:
        rt.keeper.track(p.record.id, p.record.type)
    try:
        yield
    finally:
        for p in prepared:
            rt.keeper.untrack(p.record.id)
        busy.dec()
        sample_memory(worker_metrics.device_memory_now)


def _sent(batch: RunningBatch) -> None:
    if not batch.flush():
        raise UnavailableError("the batch's reports could not be sent")


def _run(pipeline: AnyPipeline, works: Sequence[object], batch: RunningBatch) -> list[Output | Exception]:
    """The pipeline's outputs; a batch that fails as a whole is split and each half retried.

    Out of device memory, halves fit where the whole did not; for any other error, splitting finds
    the job that caused it, so it fails alone and its batch mates still succeed.
    """
    try:
        return pipeline.run(works, batch)
    except (JobStopped, SoftTimeLimitExceeded) as exc:
        return [exc] * len(works)
    except Exception as exc:  # each job ends with this error or with a retry's outcome, recorded later
        if len(works) == 1:
            if is_out_of_memory(exc):
                return [ResourceExhaustedError(f"out of device memory even alone: {exc}")]
            job_id = batch.jobs[0].job_id
            log.exception("job %s: the pipeline failed", job_id, extra={"job_id": job_id})
            return [exc]
        log.warning(
            "a batch of %d failed (%s: %s); retrying it in halves", len(works), type(exc).__name__, exc
        )
        first, second = batch.split()
        half = len(first.jobs)
        return _run(pipeline, works[:half], first) + _run(pipeline, works[half:], second)
