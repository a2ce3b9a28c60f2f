"""The event-stream snapshot source: folding events into jobs, deadlines, and the long-wait fallback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from cli.client import ApiClient, ApiError
from cli.sse import ServerSentEvent
from cli.watch import event_stream, fold, within
from tests.cli.fakes import (
    API,
    JOB_ID,
    FakeApi,
    done_frame,
    job,
    problem,
    progress_frame,
    sse,
    status_frame,
    succeeded,
)


def client_for(api: FakeApi) -> ApiClient:
    return ApiClient(API, transport=httpx.MockTransport(api))


def test_snapshots_start_from_the_job_and_follow_its_events() -> None:
    api = FakeApi(
        current=job("queued", queue_position=3),
        streams=[
            sse(
                status_frame("queued", 1, attempts=0),
                status_frame("running", 2),
                progress_frame(1, 2, 3),
                progress_frame(2, 2, 4),
                status_frame("succeeded", 5),
                done_frame(succeeded()),
            )
        ],
    )

    got = [
        (j["status"], j["queue_position"], j["progress"])
        for j in event_stream(client_for(api), JOB_ID, timeout=None)
    ]

    assert got == [
        ("queued", 3, None),  # the GET: the only place the queue position comes from
        ("queued", 3, None),
        ("running", None, None),
        ("running", None, {"step": 1, "total": 2}),
        ("running", None, {"step": 2, "total": 2}),
        ("succeeded", None, {"step": 2, "total": 2}),
        ("succeeded", None, {"step": 3, "total": 3}),  # `done`: the whole job as the server has it
    ]
    assert api.paths() == [f"GET /v1/jobs/{JOB_ID}", f"GET /v1/jobs/{JOB_ID}/events"]


def test_a_finished_job_needs_no_stream() -> None:
    api = FakeApi(current=succeeded())
    assert [j["status"] for j in event_stream(client_for(api), JOB_ID, timeout=None)] == ["succeeded"]
    assert len(api.requests) == 1


def test_tokens_go_to_the_sink_and_failures_carry_their_error() -> None:
    error = {"code": "oom", "message": "out of memory"}
    events = [
        ServerSentEvent("token", '{"text": "he", "index": 1}'),
        ServerSentEvent("token", '{"text": "llo", "index": 2}'),
        ServerSentEvent("future-kind", "{}"),
        ServerSentEvent(
            "status",
            '{"status": "failed", "attempts": 1, "error": {"code": "oom", "message": "out of memory"}}',
        ),
    ]
    pieces: list[str] = []

    snapshots = list(fold(job("running"), events, on_token=pieces.append))

    assert pieces == ["he", "llo"]
    assert [(j["status"], j["error"]) for j in snapshots] == [("failed", error)]


def test_an_event_that_is_not_json_is_a_protocol_error() -> None:
    with pytest.raises(ApiError, match="sent a progress event that is not JSON"):
        list(fold(job("running"), [ServerSentEvent("progress", "{oops")], on_token=None))


def test_servers_without_events_are_long_polled() -> None:
    api = FakeApi(current=job("running"), streams=[problem(404, "not found")])
    finished = succeeded()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("wait"):
            api.current = finished
        return api(request)

    snapshots = list(
        event_stream(ApiClient(API, transport=httpx.MockTransport(handler)), JOB_ID, timeout=None)
    )

    assert [j["status"] for j in snapshots] == ["running", "succeeded"]
    assert [r.url.params.get("wait") for r in api.requests] == [None, None, "1"]


def test_a_quiet_stream_cannot_hold_the_caller_past_the_deadline() -> None:
    body = BlockingStream()
    quiet = httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)
    api = FakeApi(current=job("running"), streams=[quiet])
    start = time.monotonic()

    snapshots = list(event_stream(client_for(api), JOB_ID, timeout=0.3))

    body.release.set()
    assert 0.25 < time.monotonic() - start < 2
    assert [j["status"] for j in snapshots] == ["running"]


def test_within_passes_items_and_errors_through() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ApiError("boom")

    passed = within(items(), time.monotonic() + 5, clock=time.monotonic)
    assert next(passed) == 1
    with pytest.raises(ApiError, match="boom"):
        next(passed)
    assert list(within(iter([1, 2]), time.monotonic() - 1, clock=time.monotonic)) == []


class BlockingStream(httpx.SyncByteStream):
    """An event stream that says `retry: 0`, then nothing until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield b"retry: 0\n\n"
        self.release.wait(10)
