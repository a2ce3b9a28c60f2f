"""/v1/jobs/{id}/events: the job's events as Server-Sent Events, resumable with Last-Event-ID."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request

from api.auth import principal
from api.caller import base_url, owned
from api.holding import GONE_CHECK_S, Gone, client_gone
from api.operations import operation
from api.services import Services, services
from api.spec import Answer, header, query
from api.waiting import open_stream
from shared.auth import Scope
from shared.errors import NotFoundError
from shared.events import Event
from shared.hub import Subscription
from shared.views import render_job
from shared.vocabulary import EventType

bp = Blueprint("events", __name__, url_prefix="/v1/jobs")

_STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})", re.ASCII)
_MAX_PART = 2**64 - 1
# A comment this often keeps proxies from closing a quiet stream and notices a gone client.
KEEPALIVE_S = 15.0


def _frame(event: Event) -> str:
    return f"id: {event.id}\nevent: {event.type}\ndata: {json.dumps(event.data, separators=(',', ':'))}\n\n"


def _resume_point(svc: Services, job_id: str) -> str:
    """Where to resume: "0-0", or the id of one of this job's events; NotFoundError (404) for any other.

    A resume point that is not an event of this job (past its end, malformed, trimmed) is refused
    before the stream starts, rather than replayed from the start: a client that lost its place
    should start over on purpose, by sending no Last-Event-ID.
    """
    after = request.headers.get("Last-Event-ID") or request.args.get("after") or "0-0"
    parts = _STREAM_ID.fullmatch(after)
    valid = parts is not None and all(int(p) <= _MAX_PART for p in parts.groups())
    if after != "0-0" and not (valid and svc.events.contains(job_id, after)):
        raise NotFoundError(
            f"job {job_id} has no event {after!r}; send no Last-Event-ID to replay its stream from the start"
        )
    return after


_CURSOR = {"type": "string", "pattern": "^[0-9]+-[0-9]+$"}


@operation(
    bp.get("/<job_id>/events"),
    {200: Answer("status, progress and token events, then done", {"text/event-stream": None})},
    scopes=(Scope.JOBS_READ,),
    problems=(404, 422, 429, 503),
    params=(
        header("Last-Event-ID", _CURSOR, "resume after this event"),
        query("after", _CURSOR, "resume after this event (for clients that cannot set headers)"),
    ),
)
def events(job_id: str) -> Response:
    """The job's events as Server-Sent Events, then `done` with the job; 404 (foreign cursor too), 422, 503"""
    svc = services()
    owned(svc.store.get(job_id))
    after, base = _resume_point(svc, job_id), base_url(svc.settings.public_url)
    with svc.holder.place(principal()) as place:
        stream = _stream(svc, job_id, after=after, base=base, gone=client_gone())
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return Response(place.stream(open_stream(stream)), mimetype="text/event-stream", headers=headers)


def next_live(sub: Subscription, timeout_s: float, gone: Gone) -> Event | None:
    """The subscription's next event within `timeout_s`; None after it, or as soon as `gone()` is true."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0 and not gone():
        event = sub.next(min(left, GONE_CHECK_S))
        if event is not None:
            return event
    return None


def _stream(svc: Services, job_id: str, *, after: str, base: str, gone: Gone) -> Iterator[str]:
    """Stored events after `after`, then live ones, then `done` with the finished job."""
    yield "retry: 2000\n\n"
    record = svc.store.get(job_id)
    for event in svc.events.history(job_id, after=after):
        yield _frame(event)
        after = event.id
        if event.terminal:
            yield _done(svc, job_id, base)
            return
    if record.status.terminal:  # resumed after the end: only `done` is left
        yield _done(svc, job_id, base)
        return
    with svc.hub.subscribe(job_id, after) as sub:
        while True:
            live = next_live(sub, KEEPALIVE_S, gone)
            if gone():  # the client left: end the stream now, which frees its place
                return
            if live is None:
                yield ": keep-alive\n\n"
                continue
            yield _frame(live)
            if live.terminal:
                yield _done(svc, job_id, base)
                return


def _done(svc: Services, job_id: str, base: str) -> str:
    view = render_job(svc.store.get(job_id), base=base)
    return f"event: {EventType.DONE}\ndata: {view.model_dump_json()}\n\n"
