"""Each job's event history (a Redis stream): what long-waits and Server-Sent Events read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from shared import redis_keys
from shared.store import redis_errors
from shared.vocabulary import EventType, JobStatus

Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True)
class Event:
    """One entry of a job's history: its stream id (`<ms>-<seq>`), its type and its data."""

    id: str
    type: EventType
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        """True for the status event that ends the job."""
        return self.type == EventType.STATUS and JobStatus(self.data["status"]).terminal


def decode_event(entry_id: bytes, fields: dict[bytes, bytes]) -> Event:
    """An event from a stream entry as Redis returns it."""
    return Event(
        id=entry_id.decode(), type=EventType(fields[b"type"].decode()), data=json.loads(fields[b"data"])
    )


class EventLog:
    """Reads job histories."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def contains(self, job_id: str, event_id: str) -> bool:
        """True when `event_id` (a valid stream id) is one of the job's stored events."""
        with redis_errors():
            found = self._redis.xrange(redis_keys.events(job_id), min=event_id, max=event_id, count=1)
        return bool(found)

    def history(self, job_id: str, *, after: str = "0-0") -> list[Event]:
        """Every stored event after the given id, oldest first."""
        start = f"({after}" if after != "0-0" else "-"
        with redis_errors():
            entries = cast(Entries, self._redis.xrange(redis_keys.events(job_id), min=start))
        return [decode_event(i, f) for i, f in entries]
