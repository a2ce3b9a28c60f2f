"""`wait` and `submit --wait`: following a job's event stream to its end, and long-waits on old servers."""

from __future__ import annotations

import json

import httpx
import pytest

from cli.client import Job
from tests.cli.fakes import (
    JOB_ID,
    FakeApi,
    Recorder,
    done_frame,
    dropped,
    job,
    problem,
    progress_frame,
    replies,
    run_cli,
    sse,
    status_frame,
    succeeded,
)


def test_wait_follows_the_event_stream_until_the_job_ends() -> None:
    api = FakeApi(
        current=job("queued", queue_position=2),
        streams=[
            sse(
                status_frame("running", 1),
                progress_frame(1, 3, 2),
                status_frame("succeeded", 3),
                done_frame(succeeded()),
            )
        ],
    )

    run = run_cli(api, "wait", JOB_ID)

    assert (run.code, run.out, run.err) == (0, f"{JOB_ID} succeeded\n", "")
    assert api.paths() == [f"GET /v1/jobs/{JOB_ID}", f"GET /v1/jobs/{JOB_ID}/events"]


def test_wait_reconnects_where_the_stream_broke_off() -> None:
    api = FakeApi(
        current=job("running"),
        streams=[
            dropped(progress_frame(1, 3, 7)),
            sse(status_frame("succeeded", 8), done_frame(succeeded())),
        ],
    )

    run = run_cli(api, "--json", "wait", JOB_ID)

    assert run.code == 0
    assert json.loads(run.out) == succeeded()
    assert [r.headers.get("last-event-id") for r in api.requests[1:]] == [None, "7-0"]


def test_wait_long_waits_on_servers_without_events() -> None:
    answers = replies(job("running", attempts=1, progress={"step": 1, "total": 3}), succeeded())

    def old_server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return problem(404, "The requested URL was not found on the server.")
        return answers(request)

    recorder = Recorder(old_server)

    run = run_cli(recorder, "wait", JOB_ID)

    assert (run.code, run.out, run.err) == (0, f"{JOB_ID} succeeded\n", "")
    assert [r.url.params.get("wait") for r in recorder.requests] == [None, None, "1"]


@pytest.mark.parametrize(
    ("ending", "message"),
    [
        (
            job("failed", error={"code": "oom", "message": "out of memory"}),
            f"error: job {JOB_ID} failed: oom: out of memory",
        ),
        (job("canceled"), f"error: job {JOB_ID} canceled"),
    ],
)
def test_wait_exits_1_when_the_job_did_not_succeed(ending: Job, message: str) -> None:
    api = FakeApi(
        current=job("running"),
        streams=[sse(status_frame(ending["status"], 1, error=ending["error"]), done_frame(ending))],
    )
    run = run_cli(api, "wait", JOB_ID)
    assert (run.code, run.err) == (1, message + "\n")


def test_wait_gives_up_after_its_timeout() -> None:
    recorder = Recorder(replies(job("running")))

    run = run_cli(recorder, "wait", JOB_ID, "--timeout", "0")

    assert run.code == 7
    assert run.err.startswith(f"error: job {JOB_ID} is still running after 0 s")
    assert [r.url.params.get("wait") for r in recorder.requests] == [None]


def test_submit_that_already_finished_does_not_wait_again() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=succeeded()))
    run = run_cli(recorder, "submit", "image", "p", "--wait")
    assert run.code == 0
    assert [r.method for r in recorder.requests] == ["POST"]
