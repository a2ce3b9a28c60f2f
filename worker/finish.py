"""Ending one job of a batch: store its result and succeed, fail it with a code, or hand it back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from billiard.exceptions import SoftTimeLimitExceeded

from shared.errors import ServiceError, StorageError, UnavailableError
from shared.job_record import ErrorInfo, JobRecord, JobStatus
from shared.logs import bound, job_fields
from shared.storage import result_key, result_prefix
from shared.vocabulary import ErrorCode, JobType
from worker.metrics import metrics
from worker.pipelines.base import Output
from worker.retrying import until_redis_answers
from worker.runtime import WorkerRuntime
from worker.steps import StopReason

log = logging.getLogger(__name__)
T = TypeVar("T")


def finish(
    rt: WorkerRuntime,
    record: JobRecord,
    stop: StopReason | None,
    output: Output | Exception,
    usage: dict[str, float] | None = None,
) -> None:
    """Give the job its one terminal transition (or hand it back), by how its run ended.

    `usage` (worker/usage.py) is written with a success or a failure, in the same step.

    A Redis outage delays the write, up to the job's lease; past that the job is left to the reaper
    (it runs again: never lost, never two results, as every write is a compare-and-set).
    """
    try:
        with bound(**job_fields(record)):  # the lines below are about this job, whichever led the batch
            _end(rt, record, stop, output, usage)
    except UnavailableError as exc:
        log.error(
            "job %s: Redis did not answer within the lease; the reaper will free it: %s", record.id, exc
        )


def _end(
    rt: WorkerRuntime,
    record: JobRecord,
    stop: StopReason | None,
    output: Output | Exception,
    usage: dict[str, float] | None,
) -> None:
    if stop in (StopReason.CANCELED, StopReason.LEASE_LOST):
        log.info("job %s: stopped (%s)", record.id, stop)
        if stop is StopReason.CANCELED:
            discard(rt, record)
    elif stop is StopReason.DEADLINE:
        if _write(rt, record, lambda: rt.store.expire(record.id, record.type, holder=rt.holder)):
            discard(rt, record)
        log.info("job %s: canceled, past its deadline", record.id)
    elif stop is StopReason.HANDED_BACK:
        handed = _write(rt, record, lambda: rt.store.hand_back(record.id, record.type, holder=rt.holder))
        log.info("job %s: %s", record.id, "handed back to the queue" if handed else "already moved on")
    elif stop is StopReason.TIMEOUT or isinstance(output, SoftTimeLimitExceeded):
        fail(
            rt,
            record,
            ErrorCode.TIMEOUT,
            f"the job ran past its time limit of {rt.settings.job_time_limit_s} s",
            usage=usage,
        )
    elif isinstance(output, Exception):
        code = (
            output.code if isinstance(output, ServiceError) and output.code.fails_jobs else ErrorCode.INTERNAL
        )
        fail(rt, record, code, f"{type(output).__name__}: {output}", usage=usage)
    else:
        _succeed(rt, record, output, usage)


def _succeed(rt: WorkerRuntime, record: JobRecord, output: Output, usage: dict[str, float] | None) -> None:
    try:
        result = _store(rt, record, output)
    except StorageError as exc:
        fail(rt, record, ErrorCode.STORAGE_UNAVAILABLE, str(exc), usage=usage)
        return
    done = _write(
        rt,
        record,
        lambda: rt.store.succeed(record.id, record.type, holder=rt.holder, result=result, usage=usage),
    )
    log.info("job %s: %s", record.id, "succeeded" if done.ok else f"result dropped, job is {done.previous}")
    if done.ok:
        _count(record.type, output)
    elif done.expired or done.previous in (JobStatus.CANCELED, JobStatus.FAILED):
        discard(rt, record)  # ended without this result (a job another worker holds keeps its objects)


def _count(job_type: JobType, output: Output) -> None:
    """Count a succeeded job's images or vectors in the worker's metrics."""
    if job_type is JobType.IMAGE:
        metrics().images.inc(len(output.artifacts))
    elif job_type is JobType.EMBED:
        metrics().embeddings.inc(len(output.summary.get("embeddings") or ()))


def fail(
    rt: WorkerRuntime,
    record: JobRecord,
    code: ErrorCode,
    message: str,
    *,
    usage: dict[str, float] | None = None,
) -> None:
    """Fail the job with a code and a readable message (and its usage), unless another worker holds it now."""
    log.warning("job %s: failed (%s) %s", record.id, code, message)
    error = ErrorInfo(code=code, message=message[:2000])
    if _write(
        rt, record, lambda: rt.store.fail(record.id, record.type, error, holder=rt.holder, usage=usage)
    ).ok:
        discard(rt, record)


def discard(rt: WorkerRuntime, record: JobRecord) -> None:
    """Delete the objects an ended job has without a result (this run's, or an earlier run's).

    A job that ended canceled or failed lists no objects, so any under its folder are orphans: the
    first images of a job whose last upload failed, or an upload that finished after a cancel.
    Tried as often as an upload (`LLMB_STORAGE_TRIES`, with backoff); an object store that still does
    not answer, or refuses a delete, leaves them, logged.
    """
    tries = rt.settings.storage_tries
    for attempt in range(1, tries + 1):
        try:
            removed = rt.storage.delete_prefix(result_prefix(record.id))
            break
        except StorageError as exc:
            if attempt == tries:
                log.warning("job %s: its objects could not be deleted: %s", record.id, exc)
                return
            log.warning(
                "job %s: deleting its objects failed, try %d of %d: %s", record.id, attempt, tries, exc
            )
            time.sleep(rt.settings.storage_backoff_s * 2 ** (attempt - 1))
    if removed:
        log.info("job %s: deleted %d object(s) it ended without", record.id, removed)


def _write(rt: WorkerRuntime, record: JobRecord, action: Callable[[], T]) -> T:
    """A terminal write, tried again through a Redis outage for up to the job's lease."""
    return until_redis_answers(action, within_s=rt.settings.lease_ttl_s, what=f"job {record.id}")


def _store(rt: WorkerRuntime, record: JobRecord, output: Output) -> dict[str, object]:
    files = []
    for artifact in output.artifacts:
        key = result_key(record.id, artifact.name)
        _put_with_retries(rt, key, artifact.body(), artifact.content_type)
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
