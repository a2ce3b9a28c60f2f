"""Worker-side Redis operations: lease renewal, progress and token reports, heartbeats."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis

from shared import redis_keys
from shared.store.commands import EVENTS_MAXLEN
from shared.store.scripts import Script, redis_errors
from shared.vocabulary import EventType, JobType

# A worker that has not beaten for this long is not counted as alive.
HEARTBEAT_TTL_S = 30.0


@dataclass(frozen=True)
class Report:
    """An event a worker sends for a job it holds (None: only ask how the job is), and its progress."""

    job_id: str
    holder: str
    event: EventType | None
    data: dict[str, Any]
    progress: dict[str, int] | None = None


class Leases:
    """A worker's hold on the jobs it runs: renewed while they run; reports double as stop checks."""

    def __init__(self, client: Redis, *, lease_ttl_s: float) -> None:
        self._redis = client
        self.lease_ttl_s = lease_ttl_s
        self._renew = Script(client, "renew")
        self._report = Script(client, "report")

    def deadline(self) -> float:
        """When a lease taken or renewed now lapses (epoch seconds)."""
        return time.time() + self.lease_ttl_s

    def renew(self, job_id: str, job_type: JobType, holder: str) -> bool:
        """Extend the lease; False when this holder no longer holds the job."""
        with redis_errors():
            held = self._renew(
                {"job": redis_keys.job(job_id), "running": redis_keys.running(job_type)},
                {"holder": holder, "lease_until": self.deadline()},
            )
        return bool(held)

    def report_many(self, reports: list[Report]) -> list[str]:
        """Send reports in one round trip; for each, "running", "lost", "missing" or the job's status."""
        pipe, now = self._redis.pipeline(transaction=False), time.time()
        for r in reports:
            self._report(
                {
                    "job": redis_keys.job(r.job_id),
                    "events": redis_keys.events(r.job_id),
                    "webhooks": redis_keys.webhook_deliveries(),
                },
                {
                    "holder": r.holder,
                    "progress": json.dumps(r.progress, separators=(",", ":")) if r.progress else "",
                    "event_type": r.event.value if r.event else "",
                    "event_data": json.dumps(r.data, separators=(",", ":")),
                    "maxlen": EVENTS_MAXLEN,
                    "now": now,
                },
                client=pipe,
            )
        with redis_errors():
            replies = pipe.execute()
        return [s.decode() if isinstance(s, bytes) else str(s) for s in replies]

    def heartbeat(self, worker_id: str, job_types: list[JobType]) -> None:
        """Count this worker as alive on its queues."""
        now = time.time()
        pipe = self._redis.pipeline(transaction=False)
        for q in job_types:
            pipe.zadd(redis_keys.workers(q), {worker_id: now})
            pipe.zremrangebyscore(redis_keys.workers(q), "-inf", now - HEARTBEAT_TTL_S * 10)
        with redis_errors():
            pipe.execute()

    def leave(self, worker_id: str, job_types: list[JobType]) -> None:
        """Stop counting this worker (clean shutdown)."""
        pipe = self._redis.pipeline(transaction=False)
        for q in job_types:
            pipe.zrem(redis_keys.workers(q), worker_id)
        with redis_errors():
            pipe.execute()
