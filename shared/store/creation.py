"""Creating jobs: record, first event and task message in one step, caps and Idempotency-Keys checked."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

from redis import Redis

from shared import keys
from shared.errors import QueueFullError, TenantQueueFullError, TooManyActiveJobsError, UnavailableError
from shared.jobs import JobRecord
from shared.queues import task_message
from shared.store.cas import EVENTS_MAXLEN, status_event
from shared.store.leases import HEARTBEAT_TTL_S
from shared.store.order import class_base
from shared.store.results import HISTORY, Created, Existing, History, Idempotency, Place
from shared.store.scripts import Script, redis_errors


class Creation:
    """The create side of `JobStore`."""

    _redis: Redis
    _create: Script
    job_ttl_s: int
    # LLMB_REDIS_WRITE_REPLICAS: a new job is answered only once this many replicas hold it (Redis WAIT).
    write_replicas: int = 0
    write_wait_ms: int = 500

    def create(
        self,
        record: JobRecord,
        *,
        max_waiting: int = 0,
        max_tenant_waiting: int = 0,
        max_active: int = 0,
        weight: float = 1.0,
        idempotency: Idempotency | None = None,
    ) -> Created | Existing:
        """Write a queued job and push its task message in one atomic step.

        With `idempotency`, a key already used answers what it made (Existing) instead, checked in
        the same step. Raises QueueFullError when its queue holds `max_waiting` waiting jobs,
        TenantQueueFullError when its tenant has `max_tenant_waiting` of them, TooManyActiveJobsError
        when its key has `max_active` queued and running ones (0: no cap), UnavailableError.
        Its place in line is fair queueing by its tenant's `weight` (> 0) within its priority class
        (create.lua; docs/ARCHITECTURE.md, "The order of a queue").
        """
        caps: dict[str, object] = {"max_waiting": max_waiting, "max_tenant_waiting": max_tenant_waiting}
        caps |= {"max_active": max_active, "weight": weight}
        args = _create_args(record, self.job_ttl_s, idempotency) | caps
        fields = [x for kv in record.to_redis().items() if kv[0] != "seq" for x in kv]
        outcome, *found = self._run_create(_create_keys(record, idempotency), args, fields)
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

    def _run_create(
        self, keys_: dict[str, str], args: dict[str, object], fields: Sequence[object]
    ) -> list[Any]:
        """create.lua's reply; with `write_replicas`, WAIT on the same connection for them to copy it.

        Raises UnavailableError when fewer replicas confirmed within `write_wait_ms`: the job may exist
        on the master alone (a failover now would lose it), so the client is told to try again (with
        the same Idempotency-Key, which answers the job if it was kept).
        """
        with redis_errors():
            if not self.write_replicas:
                return list(self._create(keys_, args, rest=fields))
            pipe = self._redis.pipeline(transaction=False)
            self._create(keys_, args, rest=fields, client=pipe)
            pipe.wait(self.write_replicas, self.write_wait_ms)
            reply, copies = pipe.execute()
        if reply[0] == b"ok" and int(copies) < self.write_replicas:
            raise UnavailableError(
                f"the job reached {copies} of {self.write_replicas} Redis replicas within "
                f"{self.write_wait_ms} ms; try again with the same Idempotency-Key"
            )
        return list(reply)

    def known(self, idempotency: Idempotency) -> Existing | None:
        """What an Idempotency-Key already made (None: nothing yet), read before anything is counted."""
        key = keys.idempotency(idempotency.tenant, idempotency.key_hash)
        with redis_errors():
            found = cast(
                list[bytes | None], self._redis.hmget(key, "job_id", "fingerprint", "inflight_until")
            )
        job_id, fingerprint, until = found
        if job_id is None:
            return None
        return Existing(job_id.decode(), (fingerprint or b"").decode(), float(until or 0))

    def settle(self, idempotency: Idempotency) -> None:
        """The request that used this Idempotency-Key has its answer: the key replays from now on."""
        with redis_errors():
            self._redis.hset(keys.idempotency(idempotency.tenant, idempotency.key_hash), "inflight_until", 0)


def _create_keys(record: JobRecord, idempotency: Idempotency | None) -> dict[str, str]:
    """The keys create.lua names, for this record."""
    idem = (
        keys.idempotency(idempotency.tenant, idempotency.key_hash) if idempotency else keys.no_idempotency()
    )
    return {
        "job": keys.job(record.id),
        "events": keys.events(record.id),
        "waiting": keys.waiting(record.type),
        "tenant_waiting": keys.tenant_waiting(record.owner, record.type),
        "owner_jobs": keys.owner_jobs(record.owner),
        "celery_queue": keys.celery_queue(record.type),
        "sequence": keys.sequence(),
        "active": keys.key_active_jobs(record.key_id or record.owner),
        "idem": idem,
        "deadlines": keys.deadlines(),
        "finished": keys.finished(record.type),
        "workers": keys.workers(record.type),
        "fair": keys.fair_share(record.type),
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
    }
