"""Queue-level reads of the job store: load, a waiting job's place and estimated start, batching's lookups."""

from __future__ import annotations

import time
from typing import cast

from redis import Redis

from shared import redis_keys
from shared.job_record import JobRecord, JobStatus, JobType
from shared.queues import QUEUES
from shared.store.answers import HISTORY, Histogram, History, Place, QueueLoad, Stats
from shared.store.leases import HEARTBEAT_TTL_S
from shared.store.scripts import redis_errors


class QueueReads:
    """Reads over the queues' and owners' indexes (`JobStore` answers them by name)."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def position(self, record: JobRecord) -> int | None:
        """A waiting job's 1-based place in its queue; None once it left the queue."""
        if record.status != JobStatus.QUEUED:
            return None
        with redis_errors():
            rank = cast(int | None, self._redis.zrank(redis_keys.waiting(record.type), record.id))
        return None if rank is None else rank + 1

    def place(self, record: JobRecord) -> Place:
        """A waiting job's place and estimated start, in one round trip; both None once it left the queue."""
        if record.status != JobStatus.QUEUED:
            return Place(None, None)
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrank(redis_keys.waiting(record.type), record.id)
        pipe.zrevrange(redis_keys.finished(record.type), 0, HISTORY - 1, withscores=True)
        pipe.zcount(redis_keys.workers(record.type), time.time() - HEARTBEAT_TTL_S, "+inf")
        with redis_errors():
            rank, finished, workers = pipe.execute()
        if rank is None:
            return Place(None, None)
        times = [score for _, score in cast(list[tuple[bytes, float]], finished)]
        history = History(len(times), min(times, default=0.0), max(times, default=0.0), int(workers))
        return Place(rank + 1, history.estimate_start_s(rank + 1))

    def queue_loads(self, *, worker_ttl_s: float) -> dict[JobType, QueueLoad]:
        """Per queue: jobs waiting, jobs running and live workers, in one round trip."""
        now = time.time()
        pipe = self._redis.pipeline(transaction=False)
        for q in QUEUES:
            pipe.zcard(redis_keys.waiting(q))
            pipe.zcard(redis_keys.running(q))
            pipe.zcount(redis_keys.workers(q), now - worker_ttl_s, "+inf")
        with redis_errors():
            counts = pipe.execute()
        return {q: QueueLoad(*counts[3 * i : 3 * i + 3]) for i, q in enumerate(QUEUES)}

    def waiting_after(self, job_type: JobType, after: float | None, count: int) -> list[tuple[str, float]]:
        """Up to `count` waiting job ids that arrived after `after`, oldest first, with their order."""
        low = "-inf" if after is None else f"({after}"
        with redis_errors():
            rows = cast(
                list[tuple[bytes, float]],
                self._redis.zrangebyscore(
                    redis_keys.waiting(job_type), low, "+inf", 0, count, withscores=True
                ),
            )
        return [(job_id.decode(), score) for job_id, score in rows]

    def batch_keys(self, job_ids: list[str]) -> list[str | None]:
        """Each job's batch key (what it can share a model call with); None when it vanished."""
        pipe = self._redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(redis_keys.job(job_id), "batch_key")
        with redis_errors():
            rows = cast(list[bytes | None], pipe.execute())
        return [None if row is None else row.decode() for row in rows]

    def backlog(self, job_types: list[JobType]) -> int:
        """How many task messages wait in these queues' Celery lists."""
        pipe = self._redis.pipeline(transaction=False)
        for q in job_types:
            pipe.llen(redis_keys.celery_queue(q))
        with redis_errors():
            return sum(cast(list[int], pipe.execute()))

    def stats(self, *, worker_ttl_s: float) -> Stats:
        """Job ends, the wait and run histograms, queue loads, usage and budget alerts, in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(redis_keys.finished_counts())
        for q in QUEUES:
            pipe.hgetall(redis_keys.duration_histogram("wait", q))
            pipe.hgetall(redis_keys.duration_histogram("run", q))
        now = time.time()
        for q in QUEUES:
            pipe.zcard(redis_keys.waiting(q))
            pipe.zcard(redis_keys.running(q))
            pipe.zcount(redis_keys.workers(q), now - worker_ttl_s, "+inf")
        pipe.hgetall(redis_keys.usage_totals())
        pipe.hgetall(redis_keys.budget_alert_counts())
        with redis_errors():
            *found, usage, alerts = pipe.execute()
        finished = {_split_key(k): int(v) for k, v in found[0].items()}
        histograms = found[1 : 1 + 2 * len(QUEUES)]
        loads = found[1 + 2 * len(QUEUES) :]
        return Stats(
            finished=finished,
            waits={q.value: _histogram(histograms[2 * i]) for i, q in enumerate(QUEUES)},
            runs={q.value: _histogram(histograms[2 * i + 1]) for i, q in enumerate(QUEUES)},
            loads={q.value: QueueLoad(*loads[3 * i : 3 * i + 3]) for i, q in enumerate(QUEUES)},
            usage={_split_usage(k): float(v) for k, v in usage.items()},
            budget_alerts={_split_alert(k): int(v) for k, v in alerts.items()},
        )


def _split_key(raw: bytes) -> tuple[str, str, str]:
    job_type, status, code = raw.decode().split("|")
    return job_type, status, code


def _split_usage(raw: bytes) -> tuple[str, str, str]:
    job_type, tenant, measure = raw.decode().split("|")
    return job_type, tenant, measure


def _split_alert(raw: bytes) -> tuple[str, str]:
    scope, measure = raw.decode().split("|")
    return scope, measure


def _histogram(raw: dict[bytes, bytes]) -> Histogram:
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    buckets = {k: int(v) for k, v in fields.items() if k not in ("count", "sum")}
    return Histogram(buckets, int(fields.get("count", 0)), float(fields.get("sum", 0.0)))
