"""Batches (/v1/batches) in Redis: the batch record, its lines' outcomes, its tenant's list, the active set.

The batch runner is the only writer of a record's `doc`; the API only adds `cancel_at` (a cancel
request), so the two never overwrite each other. Each line of the input file becomes one entry of
the batch's lines list, in file order: `j:<job id>` for a line that became a job, `e:<JSON>` for one
refused ({status_code, body}); the read offset is written in the same transaction as the entries.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

from pydantic import BaseModel
from redis import ConnectionPool, Redis

from shared.errors import NotFoundError
from shared.redis_keys import PREFIX, job, webhook_deliveries
from shared.store.scripts import Script, redis_errors
from shared.webhook import NoticeEvent, delivery

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
_STAMPS = ("in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelled_at")


def batch_key(batch_id: str) -> str:
    """Hash holding one batch: `doc` (the record as JSON), `offset`, and `cancel_at` once asked."""
    return f"{PREFIX}:batch:{batch_id}"


def lines_key(batch_id: str) -> str:
    """List of a batch's line outcomes, in file order."""
    return f"{PREFIX}:batch:{batch_id}:lines"


def batch_webhooks(batch_id: str) -> str:
    """List of a batch's webhook delivery attempts (JSON), oldest first."""
    return f"{PREFIX}:batch:{batch_id}:webhooks"


def owner_batches(owner: str) -> str:
    """Sorted set of a tenant's batch ids, scored by creation time."""
    return f"{PREFIX}:owner:{owner}:batches"


def active_batches() -> str:
    """Set of the batches the runner still works on."""
    return f"{PREFIX}:batches:active"


class BatchRecord(BaseModel):
    """A batch as stored; times are epoch seconds."""

    id: str
    owner: str
    key_id: str
    endpoint: str
    input_file_id: str
    completion_window: str = "24h"
    status: str = "validating"
    created_at: int
    expires_at: int
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelled_at: int | None = None
    cancel_at: int | None = None  # when a cancel was asked (kept in its own field, see the module)
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    metadata: dict[str, str] | None = None
    webhook: dict[str, Any] | None = None  # {"url", "events"}: whom to tell of its end (an extension)
    total: int = 0
    completed: int = 0
    failed: int = 0

    def public(self) -> dict[str, Any]:
        """The batch as OpenAI's batch object (`cancelling` from a cancel request until it ends)."""
        status = "cancelling" if self.cancel_at and self.status not in ENDED else self.status
        errors = {"object": "list", "data": self.errors} if self.errors else None
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": errors,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "cancelling_at": self.cancel_at,
            **{stamp: getattr(self, stamp) for stamp in _STAMPS},
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata,
        }


class BatchStore:
    """Batch records per tenant: another tenant's batch is answered as an unknown one (NotFoundError)."""

    def __init__(self, client: Redis) -> None:
        self._redis = client
        self._save = Script(client, "save_batch")

    @classmethod
    def on(cls, pool: ConnectionPool) -> BatchStore:
        """A store over an existing connection pool."""
        return cls(Redis(connection_pool=pool))

    def create(self, record: BatchRecord) -> None:
        """Store a new batch and hand it to the runner."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(batch_key(record.id), mapping={"doc": record.model_dump_json(), "offset": 0})
        pipe.zadd(owner_batches(record.owner), {record.id: record.created_at})
        pipe.sadd(active_batches(), record.id)
        with redis_errors():
            pipe.execute()

    def load(self, batch_id: str) -> tuple[BatchRecord, int]:
        """The batch and the input offset its lines have been read to; NotFoundError if unknown."""
        with redis_errors():
            doc, offset, cancel_at = self._redis.hmget(batch_key(batch_id), ["doc", "offset", "cancel_at"])
        if doc is None:
            raise NotFoundError(f"No batch found with id '{batch_id}'")
        record = BatchRecord.model_validate_json(doc)
        if cancel_at:
            record = record.model_copy(update={"cancel_at": int(cancel_at)})
        return record, int(offset or 0)

    def get(self, batch_id: str, owner: str) -> BatchRecord:
        """The tenant's batch; NotFoundError for an unknown id or another tenant's batch."""
        try:
            record, _ = self.load(batch_id)
        except NotFoundError:
            record = None
        if record is None or record.owner != owner:
            raise NotFoundError(f"No batch found with id '{batch_id}'")
        return record

    def request_cancel(self, batch_id: str) -> None:
        """Ask the runner to cancel the batch (the first request's time is kept)."""
        with redis_errors():
            self._redis.hsetnx(batch_key(batch_id), "cancel_at", int(time.time()))

    def save(self, record: BatchRecord) -> None:
        """Write the runner's view of the batch (its cancel request stays as it is).

        The first write of an ended batch schedules its webhook's delivery in the same step, when the
        batch asked for that end (save_batch.lua): once per batch, however often it is written.
        """
        doc = record.model_copy(update={"cancel_at": None}).model_dump_json()
        ended = record.status if record.status in ENDED else ""
        wanted = (record.webhook or {}).get("events", ())
        member = delivery(record.id, NoticeEvent(f"batch.{ended}")) if f"batch.{ended}" in wanted else ""
        args = {"doc": doc, "ended": ended, "member": member, "now": time.time()}
        with redis_errors():
            self._save({"batch": batch_key(record.id), "due": webhook_deliveries()}, args)

    def add_lines(self, batch_id: str, entries: list[str], offset: int) -> None:
        """Append line outcomes and the input offset read to, in one transaction."""
        pipe = self._redis.pipeline(transaction=True)
        if entries:
            pipe.rpush(lines_key(batch_id), *entries)
        pipe.hset(batch_key(batch_id), "offset", offset)
        with redis_errors():
            pipe.execute()

    def line_count(self, batch_id: str) -> int:
        """How many line outcomes the batch has."""
        with redis_errors():
            return cast(int, self._redis.llen(lines_key(batch_id)))

    def lines(self, batch_id: str, start: int, count: int) -> list[str]:
        """Up to `count` line outcomes from `start`, in file order."""
        with redis_errors():
            raw = cast(list[bytes], self._redis.lrange(lines_key(batch_id), start, start + count - 1))
        return [r.decode() for r in raw]

    def existing(self, job_ids: list[str]) -> set[str]:
        """Those of `job_ids` whose job record exists."""
        pipe = self._redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.exists(job(job_id))
        with redis_errors():
            found = cast(list[int], pipe.execute())
        return {job_id for job_id, n in zip(job_ids, found, strict=True) if n}

    def job_statuses(self, job_ids: list[str]) -> list[str | None]:
        """Each job's status (None for a record that is gone)."""
        pipe = self._redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(job(job_id), "status")
        with redis_errors():
            raw = cast(list[bytes | None], pipe.execute())
        return [r.decode() if r is not None else None for r in raw]

    def active(self) -> list[str]:
        """The batches the runner still works on."""
        with redis_errors():
            return sorted(m.decode() for m in cast(set[bytes], self._redis.smembers(active_batches())))

    def retire(self, batch_id: str) -> None:
        """The batch has ended: the runner is done with it."""
        with redis_errors():
            self._redis.srem(active_batches(), batch_id)

    def list(self, owner: str, *, limit: int, after: str | None = None) -> list[BatchRecord]:
        """The tenant's batches, newest first, after the batch `after` when given (up to `limit`)."""
        index = owner_batches(owner)
        with redis_errors():
            rank = self._redis.zrevrank(index, after) if after is not None else None
            start = 0 if rank is None else cast(int, rank) + 1
            ids = cast(list[bytes], self._redis.zrevrange(index, start, start + limit - 1))
        found = []
        for batch_id in ids:
            try:
                found.append(self.load(batch_id.decode())[0])
            except NotFoundError:
                continue
        return found


def error_entry(status_code: int, body: dict[str, Any]) -> str:
    """A refused line's entry in the lines list."""
    return "e:" + json.dumps({"status_code": status_code, "body": body})
