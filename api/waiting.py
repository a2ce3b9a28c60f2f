"""Requests that wait on a job (long-waits) or follow it (event streams), each announced to observers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from api import signals
from api.holding import GONE_CHECK_S, client_gone
from api.services import Services
from shared.hub import wait_for_terminal
from shared.jobs import JobRecord


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
