"""The Redis job store: job records and their status changes, each a named command (one Lua script).

`JobStore.<command>` runs `lua/<command>.lua`: create, start (start, start_mate, claim_next), finish
(succeed, fail), requeue (hand_back, release_lost), cancel (cancel, expire). lua/lib.lua holds the key
layout and shared helpers; shared/job_record.py the statuses each may start from. Reads: JobReads etc.
"""

from __future__ import annotations

import time
from typing import cast

from redis import Redis

from shared import redis_keys
from shared.errors import InvalidTransitionError, NotFoundError
from shared.job_record import ErrorInfo, JobRecord, JobStatus, JobType, after_lost_worker, worker_lost
from shared.queues import task_message
from shared.store import commands
from shared.store.answers import Created, Existing, Idempotency
from shared.store.commands import Transition, answer
from shared.store.creation import create_call, created, run_create
from shared.store.order import AGING, Aging
from shared.store.queue_reads import QueueReads
from shared.store.reads import JobReads
from shared.store.scripts import Script, redis_errors
from shared.store.usage import UsageReads


class JobStore:
    """Job records in Redis; every status change is one named command, one atomic Lua script."""

    def __init__(
        self, client: Redis, *, job_ttl_s: int, write_replicas: int = 0, write_wait_ms: int = 500
    ) -> None:
        self._redis = client
        self.job_ttl_s = job_ttl_s
        # LLMB_REDIS_WRITE_REPLICAS: a new job is answered only once this many replicas hold it (Redis WAIT).
        self.write_replicas = write_replicas
        self.write_wait_ms = write_wait_ms
        # Read-only queries, answered under these names by the objects that make them (composition).
        jobs, queues, usage = JobReads(client), QueueReads(client), UsageReads(client)
        self.ping, self.get, self.snapshot, self.known = jobs.ping, jobs.get, jobs.snapshot, jobs.known
        self.list_for_owner, self.position, self.place = jobs.list_for_owner, queues.position, queues.place
        self.queue_loads, self.stats, self.backlog = queues.queue_loads, queues.stats, queues.backlog
        self.waiting_after, self.batch_keys = queues.waiting_after, queues.batch_keys
        self.usage_rows, self.spend, self.budget_alert = usage.usage_rows, usage.spend, usage.budget_alert
        self._create, self._claim_next = Script(client, "create"), Script(client, "claim_next")
        self._start, self._start_mate = Script(client, "start"), Script(client, "start_mate")
        self._finish, self._requeue, self._cancel = (
            Script(client, n) for n in ("finish", "requeue", "cancel")
        )

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
        """Write a queued job and push its task message in one atomic step (create.lua).

        With `idempotency`, a key already used answers what it made (Existing) instead, checked in
        the same step. Raises QueueFullError when its queue holds `max_waiting` waiting jobs,
        TenantQueueFullError when its tenant has `max_tenant_waiting` of them, TooManyActiveJobsError
        when its key has `max_active` queued and running ones (0: no cap), UnavailableError.
        Its place in line is fair queueing by its tenant's `weight` (> 0) within its priority class
        (docs/ARCHITECTURE.md, "The order of a queue").
        """
        caps: dict[str, object] = {"max_waiting": max_waiting, "max_tenant_waiting": max_tenant_waiting}
        caps |= {"max_active": max_active, "weight": weight}
        call = create_call(record, ttl_s=self.job_ttl_s, idempotency=idempotency, caps=caps)
        reply = run_create(
            self._redis, self._create, call, replicas=self.write_replicas, wait_ms=self.write_wait_ms
        )
        return created(reply, record)

    def settle(self, idempotency: Idempotency) -> None:
        """The request that used this Idempotency-Key has its answer: the key replays from now on."""
        with redis_errors():
            self._redis.hset(
                redis_keys.idempotency(idempotency.tenant, idempotency.key_hash), "inflight_until", 0
            )

    def start(self, job_id: str, job_type: JobType, *, holder: str, lease_until: float) -> JobRecord | None:
        """Run the queued job under `holder`'s lease (one more attempt, start.lua); None when it moved on.

        A job past its deadline never starts: it is canceled (reason deadline) instead.
        """
        call = commands.start(job_id, job_type, holder=holder, lease_until=lease_until)
        with redis_errors():
            started = answer(self._start(*call))
        if started.expired:
            self.expire(job_id, job_type)
        return started.record

    def start_mate(self, job_id: str, job_type: JobType, *, holder: str, lease_until: float) -> Transition:
        """Start a queued job as a batch mate, spending a task message of its queue (start_mate.lua).

        `no_permit` when the queue's Celery list holds none (every other is being delivered: those
        deliveries claim jobs themselves), so a batch takes no job whose permit would come up empty.
        A job past its deadline is canceled (reason deadline) instead. Raises UnavailableError.
        """
        call = commands.start(job_id, job_type, holder=holder, lease_until=lease_until, permit=True)
        with redis_errors():
            started = answer(self._start_mate(*call))
        if started.expired:
            self.expire(job_id, job_type)
        return started

    def claim_next(
        self, job_type: JobType, *, holder: str, lease_until: float, aging: Aging = AGING, door: bool = False
    ) -> JobRecord | None:
        """Run the next waiting job of the queue by the store's order (claim_next.lua); None if none.

        `door`: claimed without a delivery (worker/interactive.py), only an interactive job, its task
        message spent. Jobs past their deadline on the way are canceled instead. Raises UnavailableError.
        """
        for _ in range(8):
            call = commands.claim_next(
                job_type, holder=holder, lease_until=lease_until, aging=aging, door=door
            )
            with redis_errors():
                reply = self._claim_next(*call)
            if reply[0] == b"empty":
                return None
            claimed = answer(reply)
            if claimed.ok:
                return claimed.record
            if claimed.expired:
                self.expire_overdue(time.time())
        return None

    def succeed(
        self,
        job_id: str,
        job_type: JobType,
        *,
        holder: str,
        result: dict[str, object],
        usage: dict[str, float] | None = None,
    ) -> Transition:
        """Finish the job with its result (and usage, added to the totals) unless `holder` lost it."""
        ttl_s = self.job_ttl_s
        call = commands.finish(
            job_id, job_type, JobStatus.SUCCEEDED, holder=holder, ttl_s=ttl_s, result=result, usage=usage
        )
        with redis_errors():
            return answer(self._finish(*call))

    def fail(
        self,
        job_id: str,
        job_type: JobType,
        error: ErrorInfo,
        *,
        holder: str = "*",
        usage: dict[str, float] | None = None,
        lapsed_before: float | None = None,
    ) -> Transition:
        """Fail the job with the reason (and usage, counted) unless `holder` lost it or its lease ran on."""
        call = commands.finish(
            job_id,
            job_type,
            JobStatus.FAILED,
            holder=holder,
            ttl_s=self.job_ttl_s,
            error=error,
            usage=usage,
            lapsed_before=lapsed_before,
        )
        with redis_errors():
            return answer(self._finish(*call))

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued or running job; NotFoundError, or InvalidTransitionError once it ended."""
        call = commands.cancel(job_id, self.get(job_id).type, holder="*", ttl_s=self.job_ttl_s)
        with redis_errors():
            done = answer(self._cancel(*call))
        if done.previous is None:
            raise NotFoundError(f"no job {job_id}")
        if not done.ok or done.record is None:
            raise InvalidTransitionError(f"job {job_id} has already ended: {done.previous}")
        return done.record

    def expire(self, job_id: str, job_type: JobType, *, holder: str = "*") -> bool:
        """Cancel an unfinished job whose deadline passed, with the reason `deadline` (cancel.lua)."""
        call = commands.cancel(job_id, job_type, holder=holder, ttl_s=self.job_ttl_s, error=commands.DEADLINE)
        with redis_errors():
            return answer(self._cancel(*call)).ok

    def expire_overdue(self, now: float) -> list[str]:
        """Cancel every unfinished job whose deadline is past `now` (reason `deadline`); their ids."""
        with redis_errors():
            due = cast(list[bytes], self._redis.zrangebyscore(redis_keys.deadlines(), "-inf", now, 0, 100))
        expired = []
        for raw in due:
            job_id = raw.decode()
            try:
                record = self.get(job_id)
            except NotFoundError:
                record = None
            if record is not None and self.expire(job_id, record.type):
                expired.append(job_id)
            else:  # its record expired, or it ended meanwhile
                with redis_errors():
                    self._redis.zrem(redis_keys.deadlines(), job_id)
        return expired

    def hand_back(self, job_id: str, job_type: JobType, *, holder: str) -> bool:
        """Put a running job back in line, first to be taken (a stopping worker); attempts unchanged."""
        call = commands.requeue(job_id, job_type, holder=holder, message=task_message(job_id, job_type))
        with redis_errors():
            return answer(self._requeue(*call)).ok

    def reap(self, job_type: JobType, *, max_attempts: int) -> list[str]:
        """Free the running jobs whose lease lapsed (`release_lost`); their ids."""
        now = time.time()
        with redis_errors():
            lapsed = cast(
                list[bytes], self._redis.zrangebyscore(redis_keys.running(job_type), "-inf", now, 0, 100)
            )
        freed = []
        for raw in lapsed:
            record = self.get(raw.decode())
            if self.release_lost(record, max_attempts=max_attempts, lapsed_before=now):
                freed.append(record.id)
        return freed

    def release_lost(
        self, record: JobRecord, *, max_attempts: int, lapsed_before: float | None = None, permit: bool = True
    ) -> bool:
        """The one decision about a running job whose worker was lost; False when it moved on meanwhile.

        Back in line at its place, attempts unchanged (requeue.lua; with a task message unless `permit`
        is False: a redelivered message claims it), or `worker_lost` once `max_attempts` were made
        (finish.lua; job_record.after_lost_worker). Guarded by the lost holder and, for the reaper, the
        lease having lapsed before `lapsed_before`. Raises UnavailableError.
        """
        job_id, job_type, holder = record.id, record.type, record.holder
        if after_lost_worker(record.attempts, max_attempts=max_attempts) == JobStatus.FAILED:
            error = worker_lost(record.attempts)
            return self.fail(job_id, job_type, error, holder=holder, lapsed_before=lapsed_before).ok
        message = task_message(job_id, job_type) if permit else b""
        call = commands.requeue(job_id, job_type, holder=holder, message=message, lapsed_before=lapsed_before)
        with redis_errors():
            return answer(self._requeue(*call)).ok
