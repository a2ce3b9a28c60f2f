"""The named commands' keys and arguments (one Lua script each, shared/store/lua/) and their answer.

A builder here names what its script's `--! keys:` and `--! args:` lines name; `JobStore` runs the
script with it and reads the answer with `answer`. The statuses a command may start from come from
the transition table (shared/job_record.py:may_start_from).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from shared import redis_keys
from shared.budgets import PERIODS, period_id, report_alerts
from shared.job_record import ErrorInfo, JobRecord, JobStatus, JobType, encode_fields, may_start_from
from shared.store.order import BATCH_BASE, Aging
from shared.vocabulary import ErrorCode

# Event history kept per job; a long chat reply streams a token per event.
EVENTS_MAXLEN = 20_000
# How long the hourly usage totals are kept: a little over a year, for monthly reports and budgets.
USAGE_TTL_S = 400 * 24 * 3600
# How long a period's spend is kept: past the end of the longest period (a month).
SPEND_TTL_S = 35 * 24 * 3600
# Bucket bounds (seconds) of the job wait and run histograms: jobs take seconds to minutes.
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# The reason of a job canceled by its deadline.
DEADLINE = ErrorInfo(code=ErrorCode.DEADLINE, message="the job was not finished by its deadline")
_BUCKETS = " ".join(str(b) for b in DURATION_BUCKETS)
QUEUED, RUNNING = JobStatus.QUEUED, JobStatus.RUNNING

# A script call: its named keys, its named arguments and its trailing field/value pairs.
Call = tuple[dict[str, str], dict[str, object], list[str]]


@dataclass(frozen=True)
class Transition:
    """What a status change found: whether it happened, the status it found, the record after it."""

    ok: bool
    previous: JobStatus | None
    record: JobRecord | None = None
    expired: bool = False  # refused: the job's deadline had passed
    no_permit: bool = False  # refused: no task message left to spend with it (start_mate.lua)


def answer(reply: list[Any]) -> Transition:
    """A command's answer (lib.lua's `changed` or a refusal) as a Transition; logs its budget alerts."""
    outcome, previous, *rest = reply
    if outcome == b"missing":
        return Transition(ok=False, previous=None)
    if outcome == b"no_permit":
        return Transition(ok=False, previous=JobStatus.QUEUED, no_permit=True)
    if outcome == b"expired":
        return Transition(ok=False, previous=JobStatus(previous.decode()), expired=True)
    record = JobRecord.from_redis(dict(zip(rest[0][::2], rest[0][1::2], strict=True))) if rest else None
    report_alerts(rest[1] if len(rest) > 1 else [])
    return Transition(ok=outcome == b"ok", previous=JobStatus(previous.decode()), record=record)


def start(job_id: str, job_type: JobType, *, holder: str, lease_until: float, permit: bool = False) -> Call:
    """start.lua's call (start_mate.lua's with `permit`): run the queued job under `holder`'s lease."""
    named = {"job": redis_keys.job(job_id), "events": redis_keys.events(job_id)} | _start_keys(job_type)
    if permit:
        named["celery_queue"] = redis_keys.celery_queue(job_type)
    args = _start_args(holder, lease_until) | {"from": may_start_from(RUNNING, only_from=QUEUED)}
    return named, args, []


def claim_next(
    job_type: JobType, *, holder: str, lease_until: float, aging: Aging, door: bool = False
) -> Call:
    """claim_next.lua's call: run the first waiting job of the queue by the store's order (`door`: only
    an interactive one, claimed without a delivery, its task message spent)."""
    named = _start_keys(job_type) | {
        "fair": redis_keys.fair_share(job_type),
        "celery_queue": redis_keys.celery_queue(job_type),
    }
    order = {
        "job_prefix": redis_keys.job_prefix(),
        "batch_base": BATCH_BASE,
        "aging_s": aging.after_s,
        "aging_every": aging.every,
        "door": "1" if door else "0",
    }
    return named, _start_args(holder, lease_until) | order, []


def _start_keys(job_type: JobType) -> dict[str, str]:
    return {
        "waiting": redis_keys.waiting(job_type),
        "running": redis_keys.running(job_type),
        "webhooks": redis_keys.webhook_deliveries(),
        "waits": redis_keys.duration_histogram("wait", job_type),
    }


def _start_args(holder: str, lease_until: float) -> dict[str, object]:
    now = time.time()
    return {
        "holder": holder,
        "lease_until": lease_until,
        "now": now,
        "maxlen": EVENTS_MAXLEN,
        "buckets": _BUCKETS,
    }


def finish(
    job_id: str,
    job_type: JobType,
    status: JobStatus,
    *,
    holder: str,
    ttl_s: int,
    result: dict[str, object] | None = None,
    error: ErrorInfo | None = None,
    usage: dict[str, float] | None = None,
    lapsed_before: float | None = None,
) -> Call:
    """finish.lua's call: end the running job as `status` with its result or error and usage."""
    now = time.time()
    fields: dict[str, Any] = {} if result is None else {"result": result}
    if error is not None:
        fields["error"] = error.model_dump(mode="json")
    if usage is not None:
        fields["usage"] = usage
    args = _end_args(job_type, status, holder=holder, error=error, ttl_s=ttl_s, now=now) | {
        "lapsed_before": "" if lapsed_before is None else lapsed_before,
        "usage": json.dumps(usage) if usage else "",
        "usage_ttl": USAGE_TTL_S,
        "spend_prefix": redis_keys.spend_prefix(),
        "spend_periods": " ".join(period_id(p, now) for p in PERIODS),
        "spend_ttl": SPEND_TTL_S,
        "status": status.value,
    }
    named = _end_keys(job_id, job_type) | {
        "usage_totals": redis_keys.usage_totals(),
        "usage_hour": redis_keys.usage_hour(int(now // 3600)),
    }
    return named, args, [x for kv in encode_fields(fields).items() for x in kv]


def cancel(
    job_id: str, job_type: JobType, *, holder: str, ttl_s: int, error: ErrorInfo | None = None
) -> Call:
    """cancel.lua's call: end the queued or running job as canceled (by its deadline when `error`)."""
    args = _end_args(job_type, JobStatus.CANCELED, holder=holder, error=error, ttl_s=ttl_s, now=time.time())
    return _end_keys(job_id, job_type), args, []


def _end_keys(job_id: str, job_type: JobType) -> dict[str, str]:
    return _job_keys(job_id, job_type) | {
        "deadlines": redis_keys.deadlines(),
        "webhooks": redis_keys.webhook_deliveries(),
        "finished": redis_keys.finished(job_type),
        "counts": redis_keys.finished_counts(),
        "runs": redis_keys.duration_histogram("run", job_type),
    }


def _end_args(
    job_type: JobType, status: JobStatus, *, holder: str, error: ErrorInfo | None, ttl_s: int, now: float
) -> dict[str, object]:
    return {
        "from": may_start_from(status),
        "holder": holder,
        "error": error.model_dump_json() if error else "",
        "now": now,
        "ttl": ttl_s,
        "maxlen": EVENTS_MAXLEN,
        "buckets": _BUCKETS,
        "job_type": job_type.value,
    }


def requeue(
    job_id: str, job_type: JobType, *, holder: str, message: bytes, lapsed_before: float | None = None
) -> Call:
    """requeue.lua's call: put the running job back in line (with `message`, b'' = none)."""
    args: dict[str, object] = {
        "from": may_start_from(JobStatus.QUEUED),
        "holder": holder,
        "lapsed_before": "" if lapsed_before is None else lapsed_before,
        "message": message,
        "maxlen": EVENTS_MAXLEN,
    }
    return _job_keys(job_id, job_type), args, []


def _job_keys(job_id: str, job_type: JobType) -> dict[str, str]:
    return {
        "job": redis_keys.job(job_id),
        "events": redis_keys.events(job_id),
        "waiting": redis_keys.waiting(job_type),
        "running": redis_keys.running(job_type),
        "celery_queue": redis_keys.celery_queue(job_type),
    }


def status_event(record: JobRecord) -> str:
    """The data of a job's first status event."""
    return json.dumps({"status": record.status.value, "attempts": record.attempts})
