"""Running jobs: claim, run the pipeline with per-job context, store results, finish each job."""

from __future__ import annotations

import logging
import time

from billiard.exceptions import SoftTimeLimitExceeded

from shared.errors import InputError, ServiceError, StorageError
from shared.inputs import parse_input
from shared.jobs import ErrorInfo, JobRecord, JobStatus
from shared.storage import result_key
from worker.claim import claim
from worker.context import RunContext, StopReason
from worker.pipelines.base import JobItem, JobStopped, Output
from worker.runtime import WorkerRuntime

log = logging.getLogger(__name__)


def run_job(job_id: str, rt: WorkerRuntime) -> None:
    """Run one delivered job, or do nothing when it is not this worker's to run."""
    record = claim(rt.store, rt.leases, job_id, me=rt.holder, max_attempts=rt.settings.max_attempts)
    if record is None:
        log.info("job %s: nothing to do (finished, or held by a live worker)", job_id)
        return
    log.info("job %s: running (attempt %d)", job_id, record.attempts)
    run_batch([record], rt)


def run_batch(records: list[JobRecord], rt: WorkerRuntime) -> None:
    """Run claimed jobs of one type in one pipeline call and finish each on its own."""
    pipeline = rt.pipelines.get(records[0].type)
    items: list[JobItem] = []
    runs: list[tuple[JobRecord, RunContext]] = []
    for record in records:
        try:
            job_input = parse_input(record.type, record.input, rt.settings.limits)
        except InputError as exc:
            _fail(rt, record, "invalid_input", f"{exc}: {exc.errors}")
            continue
        ctx = _context(rt, record)
        rt.keeper.track(record.id, record.type.value)
        items.append(JobItem(input=job_input, ctx=ctx))
        runs.append((record, ctx))
    try:
        outputs = _run(pipeline.run, items)
        for (record, ctx), output in zip(runs, outputs, strict=True):
            _finish(rt, record, ctx, output)
    finally:
        for record, _ in runs:
            rt.keeper.untrack(record.id)


def _context(rt: WorkerRuntime, record: JobRecord) -> RunContext:
    elapsed = time.time() - (record.started_at or time.time())
    deadline = time.monotonic() + rt.settings.job_time_limit_s - elapsed
    return RunContext(record.id, leases=rt.leases, holder=rt.holder, deadline=deadline)


def _run(run: object, items: list[JobItem]) -> list[Output | Exception]:
    if not items:
        return []
    try:
        return run(items)  # type: ignore[operator, no-any-return]
    except (JobStopped, SoftTimeLimitExceeded) as exc:
        return [exc] * len(items)
    except Exception as exc:
        log.exception("pipeline failed on a batch of %d", len(items))
        return [exc] * len(items)


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
