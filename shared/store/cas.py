"""The one compare-and-set every status change goes through, and what it answers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from shared import keys
from shared.budgets import PERIODS, period_id, report_alerts
from shared.jobs import Change, ErrorInfo, JobRecord, JobStatus, JobType, encode_fields
from shared.store.scripts import Script, redis_errors

# Event history kept per job; a long chat reply streams a token per event.
EVENTS_MAXLEN = 20_000
# Bucket bounds (seconds) of the job wait and run histograms: jobs take seconds to minutes.
# How long the hourly usage totals are kept: a little over a year, for monthly reports and budgets.
USAGE_TTL_S = 400 * 24 * 3600
# How long a period's spend is kept: past the end of the longest period (a month).
SPEND_TTL_S = 35 * 24 * 3600
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


@dataclass(frozen=True)
class Transition:
    """What a status change found: whether it happened, the status it found, the record after it."""

    ok: bool
    previous: JobStatus | None
    record: JobRecord | None = None
    expired: bool = False  # refused: the job's deadline had passed
    no_permit: bool = False  # refused: no task message left to spend with it (start_mate.lua)


@dataclass(frozen=True)
class Guard:
    """The conditions a change needs besides the table: the lease holder, a lapsed lease."""

    holder: str = "*"  # '*' = any
    lapsed_before: float | None = None
    unexpired: float | None = None  # refuse when the job's deadline passed by then


@dataclass(frozen=True)
class Effects:
    """What a change writes besides the status: fields, the error, a new lease, a message to send."""

    fields: dict[str, Any] = field(default_factory=dict)
    error: ErrorInfo | None = None
    lease_until: float = 0.0
    message: bytes = b""
    usage: dict[str, float] | None = None  # an end's usage: on the record and added to the totals


def compare_and_set(
    script: Script,
    job_id: str,
    job_type: JobType,
    change: Change,
    *,
    guard: Guard | None = None,
    effects: Effects | None = None,
    ttl_s: int,
) -> Transition:
    """Apply `change` to the job if its rules and `guard` hold, atomically (transition.lua)."""
    guard, effects = guard or Guard(), effects or Effects()
    fields = dict(effects.fields)
    if effects.error is not None:
        fields["error"] = effects.error.model_dump(mode="json")
    if effects.usage is not None:
        fields["usage"] = effects.usage
    now = time.time()
    args = _args(change, guard, effects, ttl_s, now) | {"job_type": job_type.value}
    with redis_errors():
        outcome, previous, *rest = script(
            _keys(job_id, job_type, now), args, rest=[x for kv in encode_fields(fields).items() for x in kv]
        )
    if outcome == b"missing":
        return Transition(ok=False, previous=None)
    if outcome == b"no_permit":
        return Transition(ok=False, previous=JobStatus.QUEUED, no_permit=True)
    if outcome == b"expired":
        return Transition(ok=False, previous=JobStatus(previous.decode()), expired=True)
    record = _record(rest[0]) if rest else None
    report_alerts(rest[1] if len(rest) > 1 else [])
    return Transition(ok=outcome == b"ok", previous=JobStatus(previous.decode()), record=record)


def _args(change: Change, guard: Guard, effects: Effects, ttl_s: int, now: float) -> dict[str, object]:
    """transition.lua's arguments: the change's rules, its guard and its effects."""
    return {
        "new": change.status.value,
        "now": now,
        "sources": " ".join(s.value for s in sorted(change.sources)),
        "expect_holder": guard.holder,
        "lapsed_before": "" if guard.lapsed_before is None else guard.lapsed_before,
        "unexpired": "" if guard.unexpired is None else guard.unexpired,
        "stamp": change.stamp or "",
        "count_attempt": "1" if change.counts_attempt else "0",
        "joins": _index_joined(change.status),
        "lease_until": effects.lease_until,
        "expire_s": ttl_s if change.terminal else 0,
        "maxlen": EVENTS_MAXLEN,
        "error": effects.error.model_dump_json() if effects.error else "",
        "message": effects.message,
        "buckets": " ".join(str(b) for b in DURATION_BUCKETS),
        "usage": json.dumps(effects.usage) if effects.usage and change.terminal else "",
        "usage_ttl": USAGE_TTL_S,
        "spend_prefix": keys.spend_prefix(),
        "spend_periods": " ".join(period_id(p, now) for p in PERIODS),
        "spend_ttl": SPEND_TTL_S,
    }


def _index_joined(status: JobStatus) -> str:
    # A running job sits in its queue's running index (scored by lease expiry), a queued one in
    # the waiting index (scored by arrival); a finished one in neither.
    return {JobStatus.RUNNING: "running", JobStatus.QUEUED: "waiting"}.get(status, "")


def _keys(job_id: str, job_type: JobType, now: float) -> dict[str, str]:
    return {"job": keys.job(job_id), "events": keys.events(job_id)} | queue_keys(job_type, now)


def queue_keys(job_type: JobType, now: float) -> dict[str, str]:
    """The keys of transition.lua besides the job's own: its queue's indexes, counts and usage totals."""
    return {
        "waiting": keys.waiting(job_type),
        "running": keys.running(job_type),
        "celery_queue": keys.celery_queue(job_type),
        "deadlines": keys.deadlines(),
        "webhooks": keys.webhook_deliveries(),
        "finished": keys.finished(job_type),
        "counts": keys.finished_counts(),
        "waits": keys.duration_histogram("wait", job_type),
        "runs": keys.duration_histogram("run", job_type),
        "usage_totals": keys.usage_totals(),
        "usage_hour": keys.usage_hour(int(now // 3600)),
    }


def _record(flat: list[bytes]) -> JobRecord:
    return JobRecord.from_redis(dict(zip(flat[::2], flat[1::2], strict=True)))


def status_event(record: JobRecord) -> str:
    """The data of a job's first status event."""
    return json.dumps({"status": record.status.value, "attempts": record.attempts})
