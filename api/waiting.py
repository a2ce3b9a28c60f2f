"""Requests that wait on a job: how long they ask (`?wait=N`, `Prefer: wait=N`), the long-wait, the stream.

Each wait and stream is announced to observers (api/signals.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from flask import request

from api import signals
from api.holding import GONE_CHECK_S, client_gone
from api.services import Services
from shared import numbers
from shared.errors import InputError
from shared.hub import wait_for_terminal
from shared.job_record import JobRecord
from shared.settings import Limits

_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*([0-9]+)", re.IGNORECASE | re.ASCII)


def long_wait(
    svc: Services, job_id: str, wait_s: float, *, since: tuple[JobRecord, str] | None = None
) -> JobRecord:
    """The job once finished or after `wait_s` s (`wait_for_terminal`); ends early once the client left.

    Sends `signals.wait_began` and `signals.wait_ended` around the wait.
    """
    signals.wait_began.send(job_id)
    try:
        return wait_for_terminal(
            svc.store, svc.hub, job_id, wait_s, since=since, gone=client_gone(), check_s=GONE_CHECK_S
        )
    finally:
        signals.wait_ended.send(job_id)


def open_stream(frames: Iterable[str]) -> Iterator[str]:
    """An event stream's frames, `signals.stream_opened` sent before the first, `stream_closed` at its end."""
    signals.stream_opened.send()
    try:
        yield from frames
    finally:
        signals.stream_closed.send()


def wait_query(limits: Limits) -> int:
    """The `?wait=N` long-wait in seconds (0 without it); past the cap is an InputError."""
    raw = request.args.get("wait")
    if raw is None:
        return 0
    seconds = numbers.integer(raw, high=limits.max_wait_s)
    if seconds is None:
        message = f"must be an integer from 0 to {limits.max_wait_s}"
        raise InputError(f"wait {message}", errors=[{"field": "wait", "message": message}])
    return seconds


def prefer_wait(limits: Limits) -> int:
    """The `Prefer: wait=N` hint in seconds, capped (a preference is a hint, RFC 7240)."""
    match = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    if not match:
        return 0
    seconds = numbers.integer(match.group(1))  # None: more digits than any real wait, so the cap
    return limits.max_wait_s if seconds is None else min(seconds, limits.max_wait_s)
