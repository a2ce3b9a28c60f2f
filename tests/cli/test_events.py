"""Following a job's events across dropped connections, and giving up when that cannot work."""

from __future__ import annotations

import httpx
import pytest

from cli.client import ApiClient, ApiError
from cli.events import EventsUnsupportedError, JobEvents
from tests.cli.fakes import (
    API,
    JOB_ID,
    FakeApi,
    done_frame,
    dropped,
    problem,
    progress_frame,
    sse,
    status_frame,
    succeeded,
)


def follower(api: FakeApi, sleeps: list[float], *, max_failures: int = 5) -> JobEvents:
    client = ApiClient(API, transport=httpx.MockTransport(api))
    return JobEvents(client, JOB_ID, sleep=sleeps.append, max_failures=max_failures)


def event_ids(api: FakeApi) -> list[str | None]:
    return [r.headers.get("last-event-id") for r in api.requests]


def test_a_dropped_stream_resumes_after_the_last_event_it_delivered() -> None:
    api = FakeApi(
        streams=[
            # The connection breaks in the middle of the third frame.
            dropped(status_frame("running", 1), progress_frame(1, 3, 2), "id: 3-0\nevent: prog"),
            sse(progress_frame(2, 3, 3), status_frame("succeeded", 4), done_frame(succeeded())),
        ]
    )
    sleeps: list[float] = []

    got = [(e.type, e.id) for e in follower(api, sleeps)]

    assert got == [
        ("status", "1-0"),
        ("progress", "2-0"),
        ("progress", "3-0"),
        ("status", "4-0"),
        ("done", "4-0"),
    ]
    assert event_ids(api) == [None, "2-0"]
    assert sleeps == [0.0]  # the server's `retry: 0`


def test_the_first_request_starts_from_the_beginning_and_waits_as_the_server_asks() -> None:
    api = FakeApi(
        streams=[
            sse(status_frame("running", 1), retry_ms=2000),  # closed before `done`: reconnect
            sse(done_frame(succeeded()), retry_ms=None),
        ]
    )
    sleeps: list[float] = []

    assert [e.type for e in follower(api, sleeps)] == ["status", "done"]
    assert event_ids(api) == [None, "1-0"]
    assert sleeps == [2.0]
    assert api.requests[0].headers["accept"] == "text/event-stream"


def test_server_errors_are_retried_but_other_refusals_are_not() -> None:
    api = FakeApi(streams=[problem(503, "Redis does not answer"), sse(done_frame(succeeded()))])
    assert [e.type for e in follower(api, [])] == ["done"]

    denied = FakeApi(streams=[problem(401, "a valid API key is required")])
    with pytest.raises(ApiError) as info:
        list(follower(denied, []))
    assert info.value.status == 401
    assert len(denied.requests) == 1


def test_a_404_before_any_stream_means_the_server_has_no_events() -> None:
    with pytest.raises(EventsUnsupportedError):
        list(follower(FakeApi(streams=[problem(404, "not found")]), []))


def test_a_404_after_a_stream_means_the_job_is_gone() -> None:
    api = FakeApi(streams=[dropped(status_frame("running", 1)), problem(404, f"no job {JOB_ID}")])
    with pytest.raises(ApiError) as info:
        list(follower(api, []))
    assert info.value.status == 404


def test_gives_up_after_max_failures_in_a_row() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    sleeps: list[float] = []
    client = ApiClient(API, transport=httpx.MockTransport(refuse))

    with pytest.raises(ApiError) as info:
        list(JobEvents(client, JOB_ID, sleep=sleeps.append, max_failures=3))

    assert info.value.code == "unreachable"
    assert sleeps == [2.0, 2.0, 2.0]  # no `retry` heard yet: the default delay


def test_a_stream_that_is_not_an_event_stream_is_not_retried() -> None:
    api = FakeApi(streams=[httpx.Response(200, json=succeeded())])
    with pytest.raises(ApiError) as info:
        list(follower(api, []))
    assert info.value.code == "protocol"
    assert "came as application/json, not text/event-stream" in str(info.value)
