"""The create command's call and answer (create.lua): record, first event and task message in one step."""

from __future__ import annotations

import time
from typing import Any

from redis import Redis

from shared import redis_keys
from shared.errors import QueueFullError, TenantQueueFullError, TooManyActiveJobsError, UnavailableError
from shared.job_record import JobRecord
from shared.queues import task_message
from shared.store.answers import HISTORY, Created, Existing, History, Idempotency, Place
from shared.store.commands import EVENTS_MAXLEN, Call, status_event
from shared.store.leases import HEARTBEAT_TTL_S
from shared.store.order import BATCH_BASE, MAX_WAKES, class_base
from shared.store.scripts import Script, redis_errors


def create_call(
    record: JobRecord, *, ttl_s: int, idempotency: Idempotency | None, caps: dict[str, object]
) -> Call:
    """create.lua's call for this record, its caps (`max_waiting`, …, `weight`) and Idempotency-Key."""
    fields = [x for kv in record.to_redis().items() if kv[0] != "seq" for x in kv]
    return _create_keys(record, idempotency), _create_args(record, ttl_s, idempotency) | caps, fields


def run_create(client: Redis, script: Script, call: Call, *, replicas: int, wait_ms: int) -> list[Any]:
    """create.lua's reply; with `replicas`, WAIT on the same connection for them to copy it.

    Raises UnavailableError when fewer replicas confirmed within `wait_ms`: the job may exist on the
    master alone (a failover now would lose it), so the client is told to try again (with the same
    Idempotency-Key, which answers the job if it was kept).
    """
    with redis_errors():
        if not replicas:
            return list(script(*call))
        pipe = client.pipeline(transaction=False)
        script(*call, client=pipe)
        pipe.wait(replicas, wait_ms)
        reply, copies = pipe.execute()
    if reply[0] == b"ok" and int(copies) < replicas:
        raise UnavailableError(
            f"the job reached {copies} of {replicas} Redis replicas within "
            f"{wait_ms} ms; try again with the same Idempotency-Key"
        )
    return list(reply)


def created(reply: list[Any], record: JobRecord) -> Created | Existing:
    """create.lua's answer: the job made and its place, or what the Idempotency-Key made.

    Raises QueueFullError, TenantQueueFullError or TooManyActiveJobsError when a cap refused it.
    """
    outcome, *found = reply
    if outcome == b"exists":
        return Existing(found[0].decode(), found[1].decode(), float(found[2]))
    if outcome == b"queue_full":
        message = f"the {record.type} queue holds {found[0]} waiting jobs, its cap"
        raise QueueFullError(message, retry_after_s=5)
    if outcome == b"tenant_queue_full":
        message = f"this tenant has {found[0]} jobs waiting in the {record.type} queue, its cap"
        raise TenantQueueFullError(message, retry_after_s=5)
    if outcome == b"too_many_active":
        message = f"this key has {found[0]} queued and running jobs, its cap"
        raise TooManyActiveJobsError(message, retry_after_s=1)
    seq, rank, event_id, *history = found
    position = int(rank) + 1
    estimate = History(int(history[0]), float(history[1]), float(history[2]), int(history[3]))
    place = Place(position, estimate.estimate_start_s(position))
    return Created(record.model_copy(update={"seq": int(seq)}), place, event_id.decode())


def _create_keys(record: JobRecord, idempotency: Idempotency | None) -> dict[str, str]:
    """The keys create.lua names, for this record."""
    idem = (
        redis_keys.idempotency(idempotency.tenant, idempotency.key_hash)
        if idempotency
        else redis_keys.no_idempotency()
    )
    return {
        "job": redis_keys.job(record.id),
        "events": redis_keys.events(record.id),
        "waiting": redis_keys.waiting(record.type),
        "tenant_waiting": redis_keys.tenant_waiting(record.owner, record.type),
        "owner_jobs": redis_keys.owner_jobs(record.owner),
        "celery_queue": redis_keys.celery_queue(record.type),
        "sequence": redis_keys.sequence(),
        "active": redis_keys.key_active_jobs(record.key_id or record.owner),
        "idem": idem,
        "deadlines": redis_keys.deadlines(),
        "finished": redis_keys.finished(record.type),
        "workers": redis_keys.workers(record.type),
        "fair": redis_keys.fair_share(record.type),
        "wakes": redis_keys.interactive_wakes(record.type),
    }


def _create_args(record: JobRecord, ttl_s: int, idempotency: Idempotency | None) -> dict[str, object]:
    """The arguments create.lua takes besides the caps and the record's fields."""
    return {
        "job_id": record.id,
        "created_at": record.created_at,
        "ttl": ttl_s,
        "maxlen": EVENTS_MAXLEN,
        "event": status_event(record),
        "message": task_message(record.id, record.type),
        "idem_fingerprint": idempotency.fingerprint if idempotency else "",
        "idem_inflight_until": idempotency.inflight_until if idempotency else 0,
        "deadline_at": record.deadline_at if record.deadline_at is not None else "",
        "history": HISTORY,
        "alive_since": time.time() - HEARTBEAT_TTL_S,
        "priority": record.priority,
        "tenant": record.owner,
        "class_base": class_base(record.priority),
        "batch_base": BATCH_BASE,
        "max_wakes": MAX_WAKES,
    }
