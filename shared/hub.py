"""One blocking reader per process that wakes every local waiter on its job's events."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import cast

import redis
from redis import Redis

from shared import redis_keys
from shared.events import Entries, Event, decode_event
from shared.job_record import JobRecord
from shared.redis_conn import BLOCK_CHUNK_S
from shared.store import JobStore

log = logging.getLogger(__name__)

# The reader re-issues its XREAD at least this often, so dropped subscriptions leave it soon.
_BLOCK_MS = int(BLOCK_CHUNK_S * 1000)
_WAKE_MAXLEN = 64


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class Subscription:
    """One waiter's view of one job's events after a given id."""

    def __init__(self, hub: EventHub, job_id: str, after: str) -> None:
        self.hub = hub
        self.job_id = job_id
        self.after = after
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def deliver(self, event: Event) -> None:
        if _id(event.id) > _id(self.after):
            self.after = event.id
            self._events.put(event)

    def next(self, timeout: float) -> Event | None:
        """The next event, or None when none came within `timeout` seconds."""
        try:
            return self._events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def close(self) -> None:
        self.hub.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class EventHub:
    """Multiplexes every local subscription onto one XREAD BLOCK, so a wait costs no connection."""

    def __init__(self, client: Redis, blocking: Redis) -> None:
        self._redis = client
        self._blocking = blocking
        self.wake_key = redis_keys.hub_wake(uuid.uuid4().hex)
        self._subs: dict[str, list[Subscription]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def close(self) -> None:
        """Stop the reader (within one blocked read) and close both connections."""
        self._closed.set()
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            self._redis.xadd(self.wake_key, {"job": ""}, maxlen=_WAKE_MAXLEN, approximate=True)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._blocking.close()
        self._redis.close()

    def subscribe(self, job_id: str, after: str) -> Subscription:
        """Start receiving the job's events with ids after `after`."""
        sub = Subscription(self, job_id, after)
        with self._lock:
            self._subs.setdefault(job_id, []).append(sub)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="event-hub", daemon=True)
                self._thread.start()
        # Wake the reader so its next XREAD includes this job; a failure only delays delivery.
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.xadd(self.wake_key, {"job": job_id}, maxlen=_WAKE_MAXLEN, approximate=True)
            pipe.expire(self.wake_key, 86400)
            pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as exc:  # NOREPLICAS too
            log.warning("cannot wake the event hub: %s", exc)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.job_id, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._subs.pop(sub.job_id, None)

    def _streams(self, wake_last: str) -> dict[str, str]:
        with self._lock:
            streams = {self.wake_key: wake_last}
            for job_id, subs in self._subs.items():
                streams[redis_keys.events(job_id)] = min((s.after for s in subs), key=_id)
        return streams

    def _run(self) -> None:
        wake_last = "0-0"  # the wake stream is this process's own, so read it from the start
        outage = False
        while not self._closed.is_set():
            try:
                reply = self._blocking.xread(self._streams(wake_last), block=_BLOCK_MS, count=512)  # type: ignore[arg-type]
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if not outage:  # once per outage; waiters time out on their own meanwhile
                    log.warning("event hub lost Redis, retrying every 0.5 s: %s", exc)
                outage = True
                self._closed.wait(0.5)
                continue
            if outage:
                log.warning("event hub reconnected to Redis")
                outage = False
            for stream, entries in cast(list[tuple[bytes, Entries]], reply or []):
                name = stream.decode()
                if name == self.wake_key:
                    wake_last = entries[-1][0].decode()
                    continue
                self._dispatch(redis_keys.job_of_events(name), entries)

    def _dispatch(self, job_id: str, entries: Entries) -> None:
        with self._lock:
            subs = list(self._subs.get(job_id, []))
        for entry_id, fields in entries:
            event = decode_event(entry_id, fields)
            for sub in subs:
                sub.deliver(event)


def wait_for_terminal(
    store: JobStore,
    hub: EventHub,
    job_id: str,
    timeout_s: float,
    *,
    since: tuple[JobRecord, str] | None = None,
    gone: Callable[[], bool] = lambda: False,
    check_s: float = 1.0,
) -> JobRecord:
    """The job once it is terminal, or as it is when `timeout_s` passes; wakes on its events.

    `since` (a record and the id of its latest event, e.g. from `JobStore.create`) saves the read.
    `gone` is asked every `check_s` seconds: once it is true (the client left), the wait ends early.
    Raises NotFoundError for an unknown job, UnavailableError when Redis is down.
    """
    record, last = since or store.snapshot(job_id)
    if record.status.terminal or timeout_s <= 0:
        return record
    deadline = time.monotonic() + timeout_s
    with hub.subscribe(job_id, last) as sub:
        while (left := deadline - time.monotonic()) > 0 and not gone():
            event = sub.next(min(left, check_s))
            if event is not None and event.terminal:
                break
    return store.get(job_id)
