from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from rich.console import Console

from cli.client import ApiClient, Job
from cli.progress import bar_fields, describe, follow
from cli.watch import long_wait
from tests.cli.fakes import API, JOB_ID, Recorder, job, replies, succeeded


class StepClock:
    """A clock that advances `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def client_for(recorder: Recorder) -> ApiClient:
    return ApiClient(API, transport=httpx.MockTransport(recorder))


def test_long_wait_yields_until_terminal() -> None:
    recorder = Recorder(replies(job("queued", queue_position=1), job("running"), succeeded(), job("failed")))

    statuses = [j["status"] for j in long_wait(client_for(recorder), JOB_ID, timeout=None, step_s=2)]

    assert statuses == ["queued", "running", "succeeded"]
    assert [r.url.params["wait"] for r in recorder.requests] == ["2", "2", "2"]


def test_long_wait_never_waits_past_its_timeout() -> None:
    recorder = Recorder(replies(job("running")))

    snapshots = list(long_wait(client_for(recorder), JOB_ID, timeout=2.5, step_s=2, clock=StepClock(1.0)))

    # The clock reads 1 at the start, then 2, 3, 4 before each request: 1.5, 0.5 and -0.5 s remain.
    assert [r.url.params.get("wait") for r in recorder.requests] == ["2", "1", None]
    assert len(snapshots) == 3


def test_describe_names_the_queue_position_and_retries() -> None:
    assert describe(job("queued", queue_position=4)) == "queued — position 4"
    assert describe(job("queued")) == "queued"
    assert describe(job("running", attempts=1)) == "running"
    assert describe(job("running", attempts=3)) == "running — attempt 3"


def test_bar_counts_steps_and_fills_up_on_success() -> None:
    assert bar_fields(job("queued")) == {"description": "queued"}
    running = job("running", attempts=1, progress={"step": 2, "total": 8})
    assert bar_fields(running) == {"description": "running", "total": 8, "completed": 2}
    done = job("succeeded", progress={"step": 7, "total": 8})
    assert bar_fields(done) == {"description": "succeeded", "total": 8, "completed": 8}


def test_follow_draws_on_a_terminal_and_returns_the_last_job() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)

    last = follow(
        iter(
            [job("queued", queue_position=2), job("running", progress={"step": 1, "total": 3}), succeeded()]
        ),
        console=console,
    )

    assert last is not None
    assert last["status"] == "succeeded"
    drawn = screen.getvalue()
    assert "succeeded" in drawn
    assert "3/3" in drawn


def test_follow_without_a_console_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    def snapshots() -> Iterator[Job]:
        yield job("running", progress={"step": 1, "total": 3})
        yield succeeded()

    assert follow(snapshots(), console=None) == succeeded()
    assert capsys.readouterr() == ("", "")
