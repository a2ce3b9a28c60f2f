"""Gathering a batch: queued jobs the same pipeline call can serve, claimed alongside the first."""

from __future__ import annotations

import json
import logging
import time
from typing import cast

from shared import keys
from shared.errors import InputError
from shared.inputs import parse_input
from shared.jobs import JobRecord, JobType
from shared.store import redis_errors
from worker.claim import claim
from worker.pipelines.base import Pipeline
from worker.runtime import WorkerRuntime

log = logging.getLogger(__name__)

# How many waiting jobs to look at per pass, per free place in the batch.
_LOOKAHEAD = 4
_POLL_S = 0.002


def gather(rt: WorkerRuntime, first: JobRecord, pipeline: Pipeline, key: str) -> list[JobRecord]:
    """`first` plus up to batch_max - 1 compatible waiting jobs, claimed for this worker.

    A job alone in its queue runs at once; with others waiting, the batch may wait up to
    batch_wait_ms for more to arrive.
    """
    batch = [first]
    seen: set[str] = {first.id}
    deadline = time.monotonic() + rt.settings.batch_wait_ms / 1000
    while len(batch) < rt.settings.batch_max:
        waiting = _waiting_ids(rt, first.type.value, (rt.settings.batch_max - len(batch)) * _LOOKAHEAD)
        fresh = [job_id for job_id in waiting if job_id not in seen]
        if not waiting and len(batch) == 1:
            break  # nobody else waits: no reason to delay this job
        seen.update(fresh)
        batch += _claim_compatible(rt, fresh, pipeline, key, room=rt.settings.batch_max - len(batch))
        if time.monotonic() >= deadline:
            break
        time.sleep(_POLL_S)
    if len(batch) > 1:
        log.info("job %s: batched with %d more (%s)", first.id, len(batch) - 1, key)
    return batch


def _waiting_ids(rt: WorkerRuntime, queue: str, count: int) -> list[str]:
    with redis_errors():
        ids = cast(list[bytes], rt.store.redis.zrange(keys.waiting(queue), 0, count - 1))
    return [i.decode() for i in ids]


def _claim_compatible(
    rt: WorkerRuntime, job_ids: list[str], pipeline: Pipeline, key: str, *, room: int
) -> list[JobRecord]:
    claimed: list[JobRecord] = []
    for job_id in job_ids:
        if len(claimed) >= room:
            break
        if _key_of(rt, job_id, pipeline) != key:
            continue
        record = claim(rt.store, rt.leases, job_id, me=rt.holder, max_attempts=rt.settings.max_attempts)
        if record is not None:
            claimed.append(record)
    return claimed


def _key_of(rt: WorkerRuntime, job_id: str, pipeline: Pipeline) -> str | None:
    with redis_errors():
        job_type, raw_input = cast(
            list[bytes | None], rt.store.redis.hmget(keys.job(job_id), ["type", "input"])
        )
    if job_type is None or raw_input is None:
        return None
    try:
        job_input = parse_input(JobType(job_type.decode()), json.loads(raw_input), rt.settings.limits)
    except InputError:
        return None  # its own delivery fails it, with the reason
    return pipeline.batch_key(job_input)
