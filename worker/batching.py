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
        waiting = _waiting_after(rt, first.type.value, after, room * _LOOKAHEAD)
        if not waiting and after is None:
            break  # nobody else waits: no reason to delay this job
        if waiting:
            after = waiting[-1][1]
        fresh = [job_id for job_id, _ in waiting if job_id != first.id]
        claimed = _claim_compatible(rt, fresh, pipeline, key, room=room)
        now = time.monotonic()
        if claimed:
            batch += claimed
            last_growth = now
        if now - last_growth >= quiet_s or now - started >= 4 * quiet_s:
            break
        time.sleep(_POLL_S)
    if len(batch) > 1:
        log.info("job %s: batched with %d more (%s)", first.id, len(batch) - 1, key)
    return batch


def _waiting_after(rt: WorkerRuntime, queue: str, after: float | None, count: int) -> list[tuple[str, float]]:
    """Up to `count` waiting job ids that arrived after `after`, oldest first, with their order."""
    low = "-inf" if after is None else f"({after}"
    with redis_errors():
        rows = cast(
            list[tuple[bytes, float]],
            rt.store.redis.zrangebyscore(
                keys.waiting(queue), low, "+inf", start=0, num=count, withscores=True
            ),
        )
    return [(job_id.decode(), score) for job_id, score in rows]


def _claim_compatible(
    rt: WorkerRuntime, job_ids: list[str], pipeline: Pipeline, key: str, *, room: int
) -> list[JobRecord]:
    claimed: list[JobRecord] = []
    for job_id, (job_type, job_key) in zip(job_ids, _keys_of(rt, job_ids, pipeline), strict=True):
        if len(claimed) >= room:
            break
        if job_key != key:
            continue
        record = claim(
            rt.store, rt.leases, job_id, me=rt.holder, max_attempts=rt.settings.max_attempts, queue=job_type
        )
        if record is not None:
            claimed.append(record)
    return claimed


def _keys_of(rt: WorkerRuntime, job_ids: list[str], pipeline: Pipeline) -> list[tuple[str, str | None]]:
    """Each job's type and batch key (None when it vanished or its input is invalid), read at once."""
    pipe = rt.store.redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hmget(keys.job(job_id), ["type", "input"])
    with redis_errors():
        rows = cast(list[list[bytes | None]], pipe.execute())
    out: list[tuple[str, str | None]] = []
    for job_type, raw_input in rows:
        if job_type is None or raw_input is None:
            out.append(("", None))
            continue
        try:
            job_input = parse_input(JobType(job_type.decode()), json.loads(raw_input), rt.settings.limits)
        except InputError:
            out.append((job_type.decode(), None))  # its own delivery fails it, with the reason
            continue
        out.append((job_type.decode(), pipeline.batch_key(job_input)))
    return out
