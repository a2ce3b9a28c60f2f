"""The Redis job store: records with a TTL, named status changes, per-owner listing, queue load."""

from __future__ import annotations

import time
from typing import cast

from redis import Redis

from shared import keys
from shared.errors import InvalidTransitionError, NotFoundError
from shared.jobs import ErrorInfo, JobRecord, JobStatus, JobType, after_lost_worker, change_into, worker_lost
from shared.queues import task_message
from shared.store.cas import (
    Effects,
    Guard,
    Transition,
    compare_and_set,
)
from shared.store.claims import claim_next, start_mate
from shared.store.creation import Creation
from shared.store.order import Aging
from shared.store.queues import QueueReads
from shared.store.scripts import Script, redis_errors
from shared.store.usage import UsageReads
from shared.vocabulary import ErrorCode


class JobStore(QueueReads, Creation, UsageReads):
    """Job records in Redis; every status change is one named method over one compare-and-set."""

    def __init__(
        self, client: Redis, *, job_ttl_s: int, write_replicas: int = 0, write_wait_ms: int = 500
    ) -> None:
        self._redis = client
        self.job_ttl_s = job_ttl_s
        self.write_replicas = write_replicas
        self.write_wait_ms = write_wait_ms
        self._create = Script(client, "create")
        self._transition = Script(client, "transition")
        self._claim_next = Script(client, "claim_next")
        self._start_mate = Script(client, "start_mate")

    def ping(self) -> None:
        """Raise UnavailableError unless Redis answers."""
        with redis_errors():
            self._redis.ping()

    def get(self, job_id: str) -> JobRecord:
        """The job's record, or NotFoundError for an unknown or expired id."""
        with redis_errors():
            raw = cast(dict[bytes, bytes], self._redis.hgetall(keys.job(job_id)))
        if not raw:
            raise NotFoundError(f"no job {job_id}")
        return JobRecord.from_redis(raw)

    def snapshot(self, job_id: str) -> tuple[JobRecord, str]:
        """The record and the id of its latest event, read atomically; NotFoundError if unknown."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(keys.job(job_id))
        pipe.xrevrange(keys.events(job_id), count=1)
        with redis_errors():
            raw, last = pipe.execute()
        if not raw:
            raise NotFoundError(f"no job {job_id}")
        return JobRecord.from_redis(raw), last[0][0].decode() if last else "0-0"

    # Status changes: each is the table's change plus its guard, through one compare-and-set.

    def start(self, job_id: str, job_type: JobType, *, holder: str, lease_until: float) -> JobRecord | None:
        """Run the queued job under `holder`'s lease (one more attempt); None when its state moved on.

        A job past its deadline never starts: it is canceled (reason deadline) instead.
        """
        effects = Effects(fields={"holder": holder, "progress": None}, lease_until=lease_until)
        guard = Guard(unexpired=time.time())
        started = self._change(
            job_id, job_type, JobStatus.RUNNING, JobStatus.QUEUED, guard=guard, effects=effects
        )
        if started.expired:
            self.expire(job_id, job_type)
        return started.record

    def start_mate(self, job_id: str, job_type: JobType, *, holder: str, lease_until: float) -> Transition:
        """Start a queued job as a batch mate, spending a task message of its queue (start_mate.lua).

        `no_permit` when the queue's Celery list holds none (every other is being delivered: those
        deliveries claim jobs themselves), so a batch takes no job whose permit would come up empty.
        A job past its deadline is canceled (reason deadline) instead. Raises UnavailableError.
        """
        started = start_mate(self._start_mate, job_id, job_type, holder, lease_until, ttl_s=self.job_ttl_s)
        if started.expired:
            self.expire(job_id, job_type)
        return started

    def claim_next(
        self, job_type: JobType, *, holder: str, lease_until: float, aging: Aging | None = None
    ) -> JobRecord | None:
        """Run the next waiting job of the queue by the store's order (shared/store/order.py); None if none.

        Jobs past their deadline on the way are canceled (reason deadline) instead of started.
        """
        for _ in range(8):
            claimed = claim_next(
                self._claim_next,
                job_type,
                holder=holder,
                lease_until=lease_until,
                ttl_s=self.job_ttl_s,
                aging=aging or Aging(),
            )
            if claimed is None:
                return None
            if claimed.ok:
                return claimed.record
            if claimed.expired:
                self.expire_overdue(time.time())
        return None

    def expire(self, job_id: str, job_type: JobType, *, holder: str = "*") -> bool:
        """Cancel an unfinished job whose deadline passed, with the reason `deadline`."""
        error = ErrorInfo(code=ErrorCode.DEADLINE, message="the job was not finished by its deadline")
        effects = Effects(error=error)
        return self._change(job_id, job_type, JobStatus.CANCELED, guard=Guard(holder), effects=effects).ok

    def expire_overdue(self, now: float) -> list[str]:
        """Cancel every unfinished job whose deadline is past `now` (reason `deadline`); their ids."""
        with redis_errors():
            due = cast(list[bytes], self._redis.zrangebyscore(keys.deadlines(), "-inf", now, 0, 100))
        expired = []
        for raw in due:
            job_id = raw.decode()
            try:
                record = self.get(job_id)
            except NotFoundError:
                with redis_errors():
                    self._redis.zrem(keys.deadlines(), job_id)
                continue
            if self.expire(job_id, record.type):
                expired.append(job_id)
            else:  # it ended meanwhile
                with redis_errors():
                    self._redis.zrem(keys.deadlines(), job_id)
        return expired

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
        effects = Effects(fields={"result": result}, usage=usage)
        return self._change(job_id, job_type, JobStatus.SUCCEEDED, guard=Guard(holder), effects=effects)

    def fail(
        self,
        job_id: str,
        job_type: JobType,
        error: ErrorInfo,
        *,
        holder: str = "*",
        usage: dict[str, float] | None = None,
    ) -> Transition:
        """Fail the job with the reason (and usage, added to the totals) unless `holder` lost it."""
        effects = Effects(error=error, usage=usage)
        return self._change(job_id, job_type, JobStatus.FAILED, guard=Guard(holder), effects=effects)

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued or running job; NotFoundError, or InvalidTransitionError once it finished."""
        done = self._change(job_id, self.get(job_id).type, JobStatus.CANCELED)
        if done.previous is None:
            raise NotFoundError(f"no job {job_id}")
        if not done.ok or done.record is None:
            raise InvalidTransitionError(f"job {job_id} has already ended: {done.previous}")
        return done.record

    def hand_back(self, job_id: str, job_type: JobType, *, holder: str) -> bool:
        """Put a running job back in line, first to be taken (a stopping worker); attempts unchanged."""
        effects = Effects(fields={"progress": None}, message=task_message(job_id, job_type))
        return self._change(job_id, job_type, JobStatus.QUEUED, guard=Guard(holder), effects=effects).ok

    def reap(self, job_type: JobType, *, max_attempts: int) -> list[str]:
        """Free the running jobs whose lease lapsed (`release_lost`); their ids."""
        now = time.time()
        with redis_errors():
            lapsed = cast(list[bytes], self._redis.zrangebyscore(keys.running(job_type), "-inf", now, 0, 100))
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

        It goes back in line at its place, attempts unchanged (with a task message unless `permit` is
        False: a redelivered message claims it), or fails `worker_lost` once `max_attempts` were made
        (shared/jobs.py:after_lost_worker). Guarded by the lost holder and, for the reaper, the lease
        having lapsed before `lapsed_before`. Raises UnavailableError.
        """
        guard = Guard(holder=record.holder, lapsed_before=lapsed_before)
        if after_lost_worker(record.attempts, max_attempts=max_attempts) == JobStatus.FAILED:
            effects = Effects(error=worker_lost(record.attempts))
            return self._change(record.id, record.type, JobStatus.FAILED, guard=guard, effects=effects).ok
        message = task_message(record.id, record.type) if permit else b""
        effects = Effects(fields={"progress": None}, message=message)
        return self._change(record.id, record.type, JobStatus.QUEUED, guard=guard, effects=effects).ok

    def _change(
        self,
        job_id: str,
        job_type: JobType,
        status: JobStatus,
        only_from: JobStatus | None = None,
        *,
        guard: Guard | None = None,
        effects: Effects | None = None,
    ) -> Transition:
        change = change_into(status, only_from=only_from)
        return compare_and_set(
            self._transition, job_id, job_type, change, guard=guard, effects=effects, ttl_s=self.job_ttl_s
        )

    # Reading many jobs at once.

    def list_for_owner(self, owner: str, *, limit: int, before: float | None = None) -> list[JobRecord]:
        """The owner's jobs, newest first, created strictly before `before` when given."""
        index = keys.owner_jobs(owner)
        top = f"({before}" if before is not None else "+inf"
        with redis_errors():
            ids = cast(list[bytes], self._redis.zrevrangebyscore(index, top, "-inf", start=0, num=limit))
            pipe = self._redis.pipeline(transaction=False)
            for job_id in ids:
                pipe.hgetall(keys.job(job_id.decode()))
            raws = pipe.execute()
            gone = [job_id for job_id, raw in zip(ids, raws, strict=True) if not raw]
            if gone:
                self._redis.zrem(index, *gone)
        return [JobRecord.from_redis(raw) for raw in raws if raw]
