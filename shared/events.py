"""Each job's event history (a Redis stream): what long-waits and Server-Sent Events read."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from redis import Redis

from shared import keys
from shared.jobs import JobRecord, JobStatus
from shared.store import JobStore, redis_errors

if TYPE_CHECKING:
    from shared.hub import EventHub

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


def decode_event(entry_id: bytes, fields: dict[bytes, bytes]) -> Event:
    """An event from a stream entry as Redis returns it."""
    return Event(id=entry_id.decode(), type=fields[b"type"].decode(), data=json.loads(fields[b"data"]))


class EventLog:
    """Reads job histories."""

    def __init__(self, client: Redis) -> None:
        self.redis = client

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
        start = f"({after}" if after != "0-0" else "-"
        with redis_errors():
            entries = cast(Entries, self.redis.xrange(keys.events(job_id), min=start))
        return [decode_event(i, f) for i, f in entries]


def wait_for_terminal(
    store: JobStore,
    log: EventLog,
    hub: EventHub,
    job_id: str,
    timeout_s: float,
    *,
    since: tuple[JobRecord, str] | None = None,
) -> JobRecord:
    """The job once it is terminal, or as it is when the timeout passes; wakes on its events.

    `since` (a record and the id of its latest event, e.g. from `JobStore.create`) saves the read.
    """
    record, last = since or log.snapshot(store, job_id)
    if record.status.terminal or timeout_s <= 0:
        return record
    deadline = time.monotonic() + timeout_s
    with hub.subscribe(job_id, last) as sub:
        while (event := sub.next(deadline - time.monotonic())) is not None:
            if event.terminal:
                break
    return store.get(job_id)
