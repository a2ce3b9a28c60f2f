"""Reading jobs one at a time or by owner, and what an Idempotency-Key made (`JobStore` answers these)."""

from __future__ import annotations

from typing import cast

from redis import Redis

from shared import redis_keys
from shared.errors import NotFoundError
from shared.job_record import JobRecord
from shared.store.answers import Existing, Idempotency
from shared.store.scripts import redis_errors


class JobReads:
    """Read-only queries of job records: one by id, one with its latest event, an owner's."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def ping(self) -> None:
        """Raise UnavailableError unless Redis answers."""
        with redis_errors():
            self._redis.ping()

    def get(self, job_id: str) -> JobRecord:
        """The job's record, or NotFoundError for an unknown or expired id."""
        with redis_errors():
            raw = cast(dict[bytes, bytes], self._redis.hgetall(redis_keys.job(job_id)))
        if not raw:
            raise NotFoundError(f"no job {job_id}")
        return JobRecord.from_redis(raw)

    def snapshot(self, job_id: str) -> tuple[JobRecord, str]:
        """The record and the id of its latest event, read atomically; NotFoundError if unknown."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(redis_keys.job(job_id))
        pipe.xrevrange(redis_keys.events(job_id), count=1)
        with redis_errors():
            raw, last = pipe.execute()
        if not raw:
            raise NotFoundError(f"no job {job_id}")
        return JobRecord.from_redis(raw), last[0][0].decode() if last else "0-0"

    def list_for_owner(self, owner: str, *, limit: int, before: float | None = None) -> list[JobRecord]:
        """The owner's jobs, newest first, created strictly before `before` when given."""
        index = redis_keys.owner_jobs(owner)
        top = f"({before}" if before is not None else "+inf"
        with redis_errors():
            ids = cast(list[bytes], self._redis.zrevrangebyscore(index, top, "-inf", start=0, num=limit))
            pipe = self._redis.pipeline(transaction=False)
            for job_id in ids:
                pipe.hgetall(redis_keys.job(job_id.decode()))
            raws = pipe.execute()
            gone = [job_id for job_id, raw in zip(ids, raws, strict=True) if not raw]
            if gone:
                self._redis.zrem(index, *gone)
        return [JobRecord.from_redis(raw) for raw in raws if raw]

    def known(self, idempotency: Idempotency) -> Existing | None:
        """What an Idempotency-Key already made (None: nothing yet), read before anything is counted."""
        key = redis_keys.idempotency(idempotency.tenant, idempotency.key_hash)
        with redis_errors():
            found = cast(
                list[bytes | None], self._redis.hmget(key, "job_id", "fingerprint", "inflight_until")
            )
        job_id, fingerprint, until = found
        if job_id is None:
            return None
        return Existing(job_id.decode(), (fingerprint or b"").decode(), float(until or 0))
