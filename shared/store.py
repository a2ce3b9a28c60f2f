"""The Redis job store: records with a TTL, atomic status changes, per-owner listing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import redis
from redis import Redis

from shared import keys
from shared.errors import InvalidTransitionError, NotFoundError, UnavailableError
from shared.jobs import TIMESTAMP_FIELD, ErrorInfo, JobRecord, JobStatus, encode_fields, sources_of

# Event history kept per job; a long chat reply streams a token per event.
EVENTS_MAXLEN = 20_000


@cache
def lua(name: str) -> str:
    """The source of one of the store's Lua scripts."""
    return resources.files("shared").joinpath(f"lua/{name}.lua").read_text()


@contextmanager
def redis_errors() -> Iterator[None]:
    """Turn a Redis outage into UnavailableError at the boundary."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise UnavailableError(f"Redis is unavailable: {exc}") from exc


@dataclass(frozen=True)
class Created:
    """A job just written: its record, its place in line, and the id of its first event."""

    record: JobRecord
    position: int
    event_id: str


@dataclass(frozen=True)
class Transition:
    """What a status change found: whether it happened and the status it found."""

    ok: bool
    previous: JobStatus | None
    record: JobRecord | None = None


class JobStore:
    """Job records in Redis; every status change goes through `transition`."""

    def __init__(self, client: Redis, *, job_ttl_s: int) -> None:
        self.redis = client
        self.job_ttl_s = job_ttl_s
        self._create = client.register_script(lua("create"))
        self._transition = client.register_script(lua("transition"))

    def create(self, record: JobRecord, message: bytes) -> Created:
        """Write a queued job and push its task message in one atomic step."""
        q = record.type.value
        event = json.dumps({"status": record.status.value, "attempts": 0})
        fields = [x for kv in record.to_redis().items() if kv[0] != "seq" for x in kv]
        with redis_errors():
            seq, rank, event_id = self._create(
                keys=[
                    keys.job(record.id),
                    keys.events(record.id),
                    keys.waiting(q),
                    keys.owner_jobs(record.owner),
                    keys.celery_queue(q),
                    keys.sequence(),
                ],
                args=[record.id, record.created_at, self.job_ttl_s, EVENTS_MAXLEN, event, message, *fields],
            )
        return Created(record.model_copy(update={"seq": int(seq)}), int(rank) + 1, event_id.decode())

    def get(self, job_id: str) -> JobRecord:
        """The job's record, or NotFoundError for an unknown or expired id."""
        with redis_errors():
            raw = self.redis.hgetall(keys.job(job_id))
        if not raw:
            raise NotFoundError(f"no job {job_id}")
        return JobRecord.from_redis(raw)  # type: ignore[arg-type]

    def position(self, record: JobRecord) -> int | None:
        """A waiting job's 1-based place in its queue; None once it left the queue."""
        if record.status != JobStatus.QUEUED:
            return None
        with redis_errors():
            rank = self.redis.zrank(keys.waiting(record.type.value), record.id)
        return None if rank is None else int(rank) + 1  # type: ignore[arg-type]

    def transition(
        self,
        job_id: str,
        new: JobStatus,
        *,
        expect_holder: str = "*",
        fields: dict[str, Any] | None = None,
        error: ErrorInfo | None = None,
        incr_attempts: bool = False,
        lease_until: float = 0.0,
        queue: str | None = None,
        only_from: JobStatus | None = None,
    ) -> Transition:
        """Change the job's status if the table allows it and the holder matches (compare-and-set).

        `queue` (the job's type) saves a read when the caller knows it; `only_from` narrows the
        statuses the table allows the change from to that one.
        """
        sources = [s for s in sources_of(new) if only_from is None or s == only_from]
        args: list[Any] = [
            new.value,
            time.time(),
            " ".join(s.value for s in sources),
            expect_holder,
            TIMESTAMP_FIELD.get(new, ""),
            self.job_ttl_s if new.terminal else 0,
            "1" if incr_attempts else "0",
            lease_until,
            EVENTS_MAXLEN,
            error.model_dump_json() if error else "",
        ]
        extra = dict(fields or {})
        if error is not None:
            extra["error"] = error.model_dump(mode="json")
        for kv in encode_fields(extra).items():
            args.extend(kv)
        record_key = keys.job(job_id)
        with redis_errors():
            if queue is None:
                found = cast(bytes | None, self.redis.hget(record_key, "type"))
                if found is None:
                    return Transition(ok=False, previous=None)
                queue = found.decode()
            outcome, previous, *rest = self._transition(
                keys=[record_key, keys.events(job_id), keys.waiting(queue), keys.running(queue)], args=args
            )
        if outcome == b"missing":
            return Transition(ok=False, previous=None)
        record = None
        if rest:
            flat = rest[0]
            record = JobRecord.from_redis(dict(zip(flat[::2], flat[1::2], strict=True)))
        return Transition(ok=outcome == b"ok", previous=JobStatus(previous.decode()), record=record)

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued or running job; a finished job cannot be canceled."""
        result = self.transition(job_id, JobStatus.CANCELED)
        if result.previous is None:
            raise NotFoundError(f"no job {job_id}")
        if not result.ok or result.record is None:
            raise InvalidTransitionError(f"job {job_id} is already {result.previous}")
        return result.record

    def list_for_owner(self, owner: str, *, limit: int, before: float | None = None) -> list[JobRecord]:
        """The owner's jobs, newest first, created strictly before `before` when given."""
        index = keys.owner_jobs(owner)
        top = f"({before}" if before is not None else "+inf"
        with redis_errors():
            ids = cast(list[bytes], self.redis.zrevrangebyscore(index, top, "-inf", start=0, num=limit))
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids:
                pipe.hgetall(keys.job(job_id.decode()))
            raws = pipe.execute()
            gone = [job_id for job_id, raw in zip(ids, raws, strict=True) if not raw]
            if gone:
                self.redis.zrem(index, *gone)
        return [JobRecord.from_redis(raw) for raw in raws if raw]

    def queue_stats(self, queues: tuple[str, ...], *, worker_ttl_s: float) -> dict[str, dict[str, int]]:
        """Per queue: jobs waiting, jobs running and live workers (the autoscaling signal)."""
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        for q in queues:
            pipe.zcard(keys.waiting(q))
            pipe.zcard(keys.running(q))
            pipe.zcount(keys.workers(q), now - worker_ttl_s, "+inf")
        with redis_errors():
            counts = pipe.execute()
        stats: dict[str, dict[str, int]] = {}
        for i, q in enumerate(queues):
            waiting, running, workers = counts[3 * i : 3 * i + 3]
            stats[q] = {"waiting": waiting, "running": running, "workers": workers, "load": waiting + running}
        return stats
