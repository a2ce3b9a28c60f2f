"""Each job's event history (a Redis stream): what long-waits and Server-Sent Events wake on."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from shared import keys
from shared.jobs import JobRecord, JobStatus
from shared.redis_conn import BLOCK_CHUNK_S
from shared.store import JobStore, redis_errors

Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True)
class Event:
    """One entry of a job's history: its stream id, its kind and its data."""

    id: str
    type: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        """True for the status event that ends the job."""
        return self.type == "status" and JobStatus(self.data["status"]).terminal


def _decode(entry_id: bytes, fields: dict[bytes, bytes]) -> Event:
    return Event(
        id=entry_id.decode(),
        type=fields[b"type"].decode(),
        data=json.loads(fields[b"data"]),
    )


class EventLog:
    """Reads job histories; blocking reads use their own client so they never starve others."""

    def __init__(self, client: Redis, blocking: Redis) -> None:
        self.redis = client
        self.blocking = blocking

    def snapshot(self, store: JobStore, job_id: str) -> tuple[JobRecord, str]:
        """The record and the id of its latest event, read atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(keys.job(job_id))
        pipe.xrevrange(keys.events(job_id), count=1)
        with redis_errors():
            raw, last = pipe.execute()
        if not raw:
            store.get(job_id)  # raises NotFoundError the one way the store does
        return JobRecord.from_redis(raw), last[0][0].decode() if last else "0-0"

    def history(self, job_id: str, *, after: str = "0-0") -> list[Event]:
        """Every stored event after the given id, oldest first."""
        with redis_errors():
            entries = cast(
                Entries, self.redis.xrange(keys.events(job_id), min=f"({after}" if after != "0-0" else "-")
            )
        return [_decode(i, f) for i, f in entries]

    def follow(self, job_id: str, *, after: str, deadline: float) -> Iterator[Event]:
        """Events after `after` as they happen, until the deadline passes."""
        key = keys.events(job_id)
        while (remaining := deadline - time.monotonic()) > 0:
            block_ms = max(1, int(min(remaining, BLOCK_CHUNK_S) * 1000))
            with redis_errors():
                reply = cast(
                    list[tuple[bytes, Entries]] | None,
                    self.blocking.xread({key: after}, block=block_ms, count=256),
                )
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    event = _decode(entry_id, fields)
                    after = event.id
                    yield event


def wait_for_terminal(store: JobStore, log: EventLog, job_id: str, timeout_s: float) -> JobRecord:
    """The job once it is terminal, or as it is when the timeout passes; wakes on its events."""
    record, last = log.snapshot(store, job_id)
    if record.status.terminal or timeout_s <= 0:
        return record
    for event in log.follow(job_id, after=last, deadline=time.monotonic() + timeout_s):
        if event.terminal:
            break
    return store.get(job_id)
