"""Running jobs: claim, gather a batch, run the pipeline, store results, finish each job on its own."""

from __future__ import annotations

import logging
import time

from billiard.exceptions import SoftTimeLimitExceeded

from shared.errors import InputError, ResourceExhaustedError, ServiceError, StorageError
from shared.inputs import parse_input
from shared.jobs import ErrorInfo, JobRecord, JobStatus
from shared.storage import result_key
from worker.batching import gather
from worker.claim import claim
from worker.context import Batch, JobItem, RunContext, StopReason
from worker.device import is_out_of_memory
from worker.pipelines.base import JobStopped, Output, Pipeline
from worker.runtime import WorkerRuntime

log = logging.getLogger(__name__)


def run_job(job_id: str, rt: WorkerRuntime, *, queue: str | None = None) -> None:
    """Run one delivered job (with compatible waiting jobs), or nothing when it is not ours to run."""
    record = claim(
        rt.store, rt.leases, job_id, me=rt.holder, max_attempts=rt.settings.max_attempts, queue=queue
    )
    if record is None:
        log.info("job %s: nothing to do (finished, or held by a live worker)", job_id)
        return
    log.info("job %s: running (attempt %d)", job_id, record.attempts)
    try:
        pipeline = rt.pipelines.get(record.type)
    except Exception as exc:  # a pipeline that cannot load fails the job with the reason, logged
        log.exception("cannot load the %s pipeline", record.type)
        _fail(rt, record, "internal", f"the {record.type} pipeline cannot load: {type(exc).__name__}: {exc}")
        return
    items = _items(rt, [record])
    if not items:
        return
    records = [record]
    if rt.settings.batch_max > 1:
        records = gather(rt, record, pipeline, pipeline.batch_key(items[0][1].input))
        items += _items(rt, records[1:])
    run_batch(rt, pipeline, items)


def _items(rt: WorkerRuntime, records: list[JobRecord]) -> list[tuple[JobRecord, JobItem]]:
    """Each claimed job with its re-checked input and context; invalid ones fail here."""
    out = []
    for record in records:
        try:
            job_input = parse_input(record.type, record.input, rt.settings.limits)
        except InputError as exc:
            _fail(rt, record, "invalid_input", f"{exc}: {exc.errors}")
            continue
        elapsed = time.time() - (record.started_at or time.time())
        deadline = time.monotonic() + rt.settings.job_time_limit_s - elapsed
        out.append((record, JobItem(job_input, RunContext(record.id, holder=rt.holder, deadline=deadline))))
    return out


def run_batch(rt: WorkerRuntime, pipeline: Pipeline, items: list[tuple[JobRecord, JobItem]]) -> None:
    """Run claimed jobs of one type in one pipeline call and finish each on its own."""
    for record, _ in items:
        rt.keeper.track(record.id, record.type.value)
    batch = Batch([item for _, item in items], rt.leases, rt.settings.event_interval_ms / 1000)
    try:
        outputs = _run(pipeline, batch)
        batch.sync(force=True)  # the last tokens and progress land before each job's final status
        for (record, item), output in zip(items, outputs, strict=True):
            _finish(rt, record, item.ctx, output)
    finally:
        for record, _ in items:
            rt.keeper.untrack(record.id)


def _run(pipeline: Pipeline, batch: Batch) -> list[Output | Exception]:
    """The pipeline's outputs; out of device memory, the batch is split and each half retried."""
    try:
        return pipeline.run(batch)
    except (JobStopped, SoftTimeLimitExceeded) as exc:
        return [exc] * len(batch.items)
    except Exception as exc:  # every job of the batch fails with this error, recorded below
        if is_out_of_memory(exc):
            if len(batch.items) == 1:
                return [ResourceExhaustedError(f"out of device memory even alone: {exc}")]
            first, second = batch.split()
            log.warning(
                "out of device memory on a batch of %d; retrying as %d + %d",
                len(batch.items),
                len(first.items),
                len(second.items),
            )
            return _run(pipeline, first) + _run(pipeline, second)
        log.exception("pipeline failed on a batch of %d", len(batch.items))
        return [exc] * len(batch.items)


def _finish(rt: WorkerRuntime, record: JobRecord, ctx: RunContext, output: Output | Exception) -> None:
    if ctx.stop in (StopReason.CANCELED, StopReason.LEASE_LOST):
        log.info("job %s: stopped (%s)", record.id, ctx.stop)
        return
    if ctx.stop is StopReason.TIMEOUT or isinstance(output, SoftTimeLimitExceeded):
        _fail(rt, record, "timeout", f"the job ran past its time limit of {rt.settings.job_time_limit_s} s")
        return
    if isinstance(output, Exception):
        code = output.code if isinstance(output, ServiceError) else "internal"
        _fail(rt, record, code, f"{type(output).__name__}: {output}")
        return
    try:
        result = _store(rt, record, output)
    except StorageError as exc:
        _fail(rt, record, "storage_unavailable", str(exc))
        return
    done = rt.store.transition(
        record.id,
        JobStatus.SUCCEEDED,
        expect_holder=rt.holder,
        fields={"result": result},
        queue=record.type.value,
    )
    log.info("job %s: %s", record.id, "succeeded" if done.ok else f"result dropped, job is {done.previous}")


def _store(rt: WorkerRuntime, record: JobRecord, output: Output) -> dict[str, object]:
    files = []
    for artifact in output.artifacts:
        key = result_key(record.id, artifact.name)
        _put_with_retries(rt, key, artifact.data, artifact.content_type)
        files.append({"key": key, "content_type": artifact.content_type, **artifact.meta})
    return {**output.summary, "files": files} if files else dict(output.summary)


def _put_with_retries(rt: WorkerRuntime, key: str, data: bytes, content_type: str) -> None:
    # Bounded: after the last try the job fails with storage_unavailable; the key is the same on
    # every try, so a retry never leaves a second copy behind.
    tries = rt.settings.storage_tries
    for attempt in range(1, tries + 1):
        try:
            rt.storage.put(key, data, content_type=content_type)
            return
        except StorageError:
            if attempt == tries:
                raise
            log.warning("storing %s failed, try %d of %d", key, attempt, tries)
            time.sleep(rt.settings.storage_backoff_s * 2 ** (attempt - 1))


def _fail(rt: WorkerRuntime, record: JobRecord, code: str, message: str) -> None:
    log.warning("job %s: failed (%s) %s", record.id, code, message)
    error = ErrorInfo(code=code, message=message[:2000])
    rt.store.transition(
        record.id, JobStatus.FAILED, expect_holder=rt.holder, error=error, queue=record.type.value
    )
