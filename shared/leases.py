"""Worker-side Redis operations on running jobs: leases, progress reports, the reaper, heartbeats."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from shared import keys
from shared.store import EVENTS_MAXLEN, lua, redis_errors

# A worker that has not beaten for this long is not counted as alive.
HEARTBEAT_TTL_S = 30.0


@dataclass(frozen=True)
class Report:
    """An event a worker sends for a job it holds, and the progress to store with it (if any)."""

    job_id: str
    holder: str
    event: str
    data: dict[str, Any]
    progress: dict[str, int] | None = None


class Leases:
    """A worker's hold on the jobs it runs, renewed while they run and freed when it is lost."""

    def __init__(self, client: Redis, *, lease_ttl_s: float) -> None:
        self.redis = client
        self.lease_ttl_s = lease_ttl_s
        self._renew = client.register_script(lua("renew"))
        self._report = client.register_script(lua("report"))
        self._reap = client.register_script(lua("reap"))

    def deadline(self) -> float:
        """When a lease taken or renewed now lapses."""
        return time.time() + self.lease_ttl_s

    def renew(self, job_id: str, queue: str, holder: str) -> bool:
        """Extend the lease; False when this worker no longer holds the job."""
        with redis_errors():
            held = self._renew(keys=[keys.job(job_id), keys.running(queue)], args=[holder, self.deadline()])
        return bool(held)

    def report(
        self,
        job_id: str,
        holder: str,
        event: str,
        data: dict[str, Any],
        *,
        progress: dict[str, int] | None = None,
    ) -> str:
        """Append an event while holding the job; "running", "lost" or the job's status."""
        return self.report_many([Report(job_id, holder, event, data, progress)])[0]

    def report_many(self, reports: list[Report]) -> list[str]:
        """Send many reports in one round trip; for each, "running", "lost" or the job's status."""
        pipe = self.redis.pipeline(transaction=False)
        for r in reports:
            payload = json.dumps(r.data, separators=(",", ":"))
            progress = json.dumps(r.progress, separators=(",", ":")) if r.progress else ""
            self._report(
                keys=[keys.job(r.job_id), keys.events(r.job_id)],
                args=[r.holder, progress, r.event, payload, EVENTS_MAXLEN],
                client=pipe,
            )
        with redis_errors():
            replies = pipe.execute()
        return [s.decode() if isinstance(s, bytes) else str(s) for s in replies]

    def reap(self, queue: str, message: Callable[[str], bytes]) -> list[str]:
        """Free the running jobs whose lease lapsed and send each again; returns their ids."""
        now = time.time()
        # Until a worker takes a freed job, send it again at most once per this interval.
        next_check = now + max(self.lease_ttl_s * 4, 60.0)
        freed = []
        with redis_errors():
            lapsed = cast(
                list[bytes], self.redis.zrangebyscore(keys.running(queue), "-inf", now, start=0, num=100)
            )
            for raw in lapsed:
                job_id = raw.decode()
                job_keys = [keys.job(job_id), keys.running(queue), keys.celery_queue(queue)]
                if self._reap(keys=job_keys, args=[job_id, now, next_check, message(job_id)]):
                    freed.append(job_id)
        return freed

    def heartbeat(self, worker_id: str, queues: list[str]) -> None:
        """Count this worker as alive on its queues."""
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        for q in queues:
            pipe.zadd(keys.workers(q), {worker_id: now})
            pipe.zremrangebyscore(keys.workers(q), "-inf", now - HEARTBEAT_TTL_S * 10)
        with redis_errors():
            pipe.execute()

    def leave(self, worker_id: str, queues: list[str]) -> None:
        """Stop counting this worker (clean shutdown)."""
        pipe = self.redis.pipeline(transaction=False)
        for q in queues:
            pipe.zrem(keys.workers(q), worker_id)
        with redis_errors():
            pipe.execute()
