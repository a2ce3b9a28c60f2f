"""Claiming the next waiting job of a queue by the store's order, in one script (claim_next.lua).

The waiting index is the queue: a worker's Celery message is a permit to run one job, and the job
it runs is whichever the store puts first, so orders Celery's lists cannot express (priorities,
fair share between tenants) change only the store.
"""

from __future__ import annotations

import time

from shared import keys
from shared.jobs import JobStatus, JobType, change_into, encode_fields
from shared.store.cas import Effects, Guard, Transition, _args, _record, compare_and_set, queue_keys
from shared.store.order import BATCH_BASE, Aging
from shared.store.scripts import Script, redis_errors


def claim_next(
    script: Script,
    job_type: JobType,
    *,
    holder: str,
    lease_until: float,
    ttl_s: int,
    aging: Aging,
) -> Transition | None:
    """Start the next waiting job of `job_type` by the store's order under `holder`'s lease.

    None when none waits. The answer is transition.lua's: `expired` when that job's deadline passed
    (it is still waiting). Raises UnavailableError when Redis is away.
    """
    change = change_into(JobStatus.RUNNING, only_from=JobStatus.QUEUED)
    effects = Effects(fields={"holder": holder, "progress": None}, lease_until=lease_until)
    now = time.time()
    args = _args(change, Guard(unexpired=now), effects, ttl_s, now) | {
        "job_type": job_type.value,
        "job_prefix": keys.job_prefix(),
        "batch_base": BATCH_BASE,
        "aging_s": aging.after_s,
        "aging_every": aging.every,
    }
    named = queue_keys(job_type, now) | {"fair": keys.fair_share(job_type)}
    fields = [x for kv in encode_fields(dict(effects.fields)).items() for x in kv]
    with redis_errors():
        outcome, previous, *rest = script(named, args, rest=fields)
    if outcome == b"empty":
        return None
    if outcome == b"missing":
        return Transition(ok=False, previous=None)
    if outcome == b"expired":
        return Transition(ok=False, previous=JobStatus(previous.decode()), expired=True)
    record = _record(rest[0]) if rest else None
    return Transition(ok=outcome == b"ok", previous=JobStatus(previous.decode()), record=record)


def start_mate(
    script: Script, job_id: str, job_type: JobType, holder: str, lease_until: float, *, ttl_s: int
) -> Transition:
    """Start the queued job under `holder`'s lease with one of its queue's permits (start_mate.lua)."""
    change = change_into(JobStatus.RUNNING, only_from=JobStatus.QUEUED)
    effects = Effects(fields={"holder": holder, "progress": None}, lease_until=lease_until)
    guard = Guard(unexpired=time.time())
    return compare_and_set(script, job_id, job_type, change, guard=guard, effects=effects, ttl_s=ttl_s)
