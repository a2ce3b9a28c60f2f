"""Sources of job snapshots for following a job to its end: its event stream, or long-waits on old servers.

`event_stream` is the default: one GET for the job as it is (its queue position, which events do not
carry), then the job's Server-Sent Events folded into snapshots, reconnecting after the last event id
when the stream drops. A server that answers 404 on the events of a job that exists predates them;
then `long_wait` takes over for the time that is left.
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, cast

from cli.client import TERMINAL, ApiClient, ApiError, Job
from cli.events import EventsUnsupportedError, job_events
from cli.sse import ServerSentEvent

T = TypeVar("T")
TokenSink = Callable[[str], None]
EventFeed = Callable[[ApiClient, str], Iterator[ServerSentEvent]]


class SnapshotSource(Protocol):
    """Yields the job as it changes until it is terminal or `timeout` seconds pass.

    A source that sees a chat job's text as it is written hands each piece to `on_token`.
    """

    def __call__(
        self, client: ApiClient, job_id: str, *, timeout: float | None, on_token: TokenSink | None = None
    ) -> Iterator[Job]: ...


def event_stream(
    client: ApiClient,
    job_id: str,
    *,
    timeout: float | None,
    on_token: TokenSink | None = None,
    feed: EventFeed = job_events,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Job]:
    """Yield the job, then the job after each of its events, until `done` or `timeout` seconds pass."""
    job = client.job(job_id)
    yield job
    if job["status"] in TERMINAL:
        return
    deadline = None if timeout is None else clock() + timeout
    try:
        yield from within(fold(job, feed(client, job_id), on_token=on_token), deadline, clock=clock)
    except EventsUnsupportedError:
        left = None if deadline is None else max(0.0, deadline - clock())
        yield from long_wait(client, job_id, timeout=left, clock=clock)


def fold(job: Job, events: Iterable[ServerSentEvent], *, on_token: TokenSink | None) -> Iterator[Job]:
    """The job after each status and progress event, and at last the finished job from `done`."""
    current: dict[str, Any] = dict(job)
    for event in events:
        data = event_data(event)
        if event.type == "done":
            yield cast(Job, data)
            return
        if event.type == "token":
            if on_token is not None:
                on_token(str(data.get("text", "")))
            continue
        if event.type == "status":
            current["status"] = data.get("status", current["status"])
            current["attempts"] = data.get("attempts", current["attempts"])
            current["error"] = data.get("error")
            if current["status"] != "queued":
                current["queue_position"] = None
        elif event.type == "progress":
            current["progress"] = {"step": data.get("step", 0), "total": data.get("total", 0)}
        else:
            continue  # an event type this client does not know yet
        yield cast(Job, dict(current))


def event_data(event: ServerSentEvent) -> dict[str, Any]:
    """An event's JSON data; anything else is a broken server, reported as one."""
    try:
        data = json.loads(event.data)
    except ValueError as exc:
        raise ApiError(f"the server sent a {event.type} event that is not JSON", code="protocol") from exc
    if not isinstance(data, dict):
        raise ApiError(f"the server sent a {event.type} event that is not a JSON object", code="protocol")
    return data


def within(items: Iterator[T], deadline: float | None, *, clock: Callable[[], float]) -> Iterator[T]:
    """`items` until `deadline` (a `clock` time) passes, however long the next item takes to come.

    Without a deadline the items are read here; with one, a daemon thread reads them so that a
    quiet stream cannot hold the caller past the deadline.
    """
    if deadline is None:
        yield from items
        return
    box: queue.Queue[tuple[str, Any]] = queue.Queue()
    if deadline > clock():
        threading.Thread(target=_pump, args=(items, box), daemon=True).start()
    while (left := deadline - clock()) > 0:
        try:
            kind, value = box.get(timeout=left)
        except queue.Empty:
            return
        if kind == "end":
            return
        if kind == "error":
            raise value
        yield value


def _pump(items: Iterator[Any], box: queue.Queue[tuple[str, Any]]) -> None:
    try:
        for item in items:
            box.put(("item", item))
    except Exception as exc:  # noqa: BLE001 - handed over to the consuming thread, which raises it
        box.put(("error", exc))
    else:
        box.put(("end", None))


def long_wait(
    client: ApiClient,
    job_id: str,
    *,
    timeout: float | None,
    on_token: TokenSink | None = None,
    step_s: int = 1,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Job]:
    """Yield the job about every `step_s` seconds, the server holding each answer, until it ends.

    Long-waits see no tokens: `on_token` is never called, and the caller prints a chat job's
    text from its result.
    """
    deadline = None if timeout is None else clock() + timeout
    while True:
        wait_s = step_s if deadline is None else max(0, min(step_s, math.ceil(deadline - clock())))
        job = client.job(job_id, wait_s=wait_s)
        yield job
        if job["status"] in TERMINAL or wait_s == 0:
            return
