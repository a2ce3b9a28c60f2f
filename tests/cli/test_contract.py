"""The client contract on the command line: idempotency keys, webhooks, deadlines, the wait estimate."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.cli.fakes import JOB_ID, Recorder, job, run_cli

ATTEMPTS = {
    "attempts": [
        {
            "at": "2025-01-02T03:04:05.000Z",
            "event": "completed",
            "webhook_id": f"msg_{JOB_ID}_completed",
            "outcome": "retrying",
            "status_code": 500,
            "error": None,
            "next_attempt_at": "2025-01-02T03:04:10.000Z",
            "duration_ms": 12,
        },
        {
            "at": "2025-01-02T03:04:10.000Z",
            "event": "completed",
            "webhook_id": f"msg_{JOB_ID}_completed",
            "outcome": "retrying",
            "status_code": None,
            "error": "timed out: read",
            "next_attempt_at": "2025-01-02T03:04:20.000Z",
            "duration_ms": 5000,
        },
        {
            "at": "2025-01-02T03:04:20.000Z",
            "event": "completed",
            "webhook_id": f"msg_{JOB_ID}_completed",
            "outcome": "delivered",
            "status_code": 200,
            "error": None,
            "next_attempt_at": None,
            "duration_ms": 8,
        },
    ]
}


def test_submit_sends_the_idempotency_key_the_webhook_and_the_deadline() -> None:
    recorder = Recorder(lambda r: httpx.Response(202, json=job()))
    run = run_cli(
        recorder,
        "submit",
        "image",
        "a fox",
        "--idempotency-key",
        "order-42",
        "--webhook",
        "https://hooks.example.com/in",
        "--webhook-event",
        "started",
        "--webhook-event",
        "completed",
        "--webhook-event",
        "started",
        "--deadline",
        "10m",
        "--priority",
        "batch",
    )
    assert (run.code, run.out) == (0, f"{JOB_ID}\n")
    (request,) = recorder.requests
    assert request.headers["idempotency-key"] == "order-42"
    assert json.loads(request.content) == {
        "type": "image",
        "input": {"prompt": "a fox"},
        "webhook": {"url": "https://hooks.example.com/in", "events": ["started", "completed"]},
        "deadline_s": 600,
        "priority": "batch",
    }


def test_without_the_options_nothing_more_is_sent_and_events_default_on_the_server() -> None:
    recorder = Recorder(lambda r: httpx.Response(202, json=job()))
    run_cli(recorder, "submit", "chat", "hi")
    run_cli(recorder, "submit", "embed", "a", "--webhook", "https://hooks.example.com/in", "--deadline", "90")
    plain, hooked = recorder.requests
    assert "idempotency-key" not in plain.headers
    assert set(json.loads(plain.content)) == {"type", "input"}
    body = json.loads(hooked.content)
    assert (body["webhook"], body["deadline_s"]) == ({"url": "https://hooks.example.com/in"}, 90)


def test_a_replayed_submission_says_so_and_prints_the_same_id() -> None:
    replay = httpx.Response(200, json=job("running"), headers={"Idempotent-Replayed": "true"})
    run = run_cli(lambda r: replay, "submit", "image", "a fox", "--idempotency-key", "k")
    assert (run.code, run.out) == (0, f"{JOB_ID}\n")
    assert "made earlier with this idempotency key" in run.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--webhook-event", "completed"], "--webhook-event needs --webhook URL"),
        (["--webhook", "https://h.example/", "--webhook-event", "ended"], "invalid choice"),
        (["--deadline", "soon"], "is not a duration"),
    ],
)
def test_bad_contract_options_are_usage_errors_and_send_nothing(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(lambda r: httpx.Response(202, json=job()))
    run = run_cli(recorder, "submit", "image", "a fox", *args)
    assert run.code == 2
    assert message in run.err + capsys.readouterr().err  # argparse writes its own errors to stderr
    assert recorder.requests == []


def test_status_shows_the_estimated_start_the_deadline_and_the_webhook() -> None:
    queued = job(
        queue_position=3,
        estimated_start_s=12.4,
        deadline_at="2025-01-02T04:00:00.000Z",
        webhook={"url": "https://hooks.example.com/in", "events": ["completed"]},
    )
    run = run_cli(lambda r: httpx.Response(200, json=queued), "status", JOB_ID)
    assert run.code == 0
    assert "starts in: about 12 s" in run.out
    assert "deadline:  2025-01-02 04:00:00 UTC" in run.out
    assert "webhook:   https://hooks.example.com/in (completed)" in run.out
    cold = run_cli(
        lambda r: httpx.Response(200, json=job(queue_position=1, estimated_start_s=None)), "status", JOB_ID
    )
    assert "starts in: unknown (no recent history)" in cold.out
    running = run_cli(lambda r: httpx.Response(200, json=job("running")), "status", JOB_ID)
    assert "starts in" not in running.out


def test_webhooks_lists_each_attempt_as_a_table_or_json() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=ATTEMPTS))
    table = run_cli(recorder, "webhooks", JOB_ID)
    as_json = run_cli(recorder, "webhooks", JOB_ID, "--json")
    assert [r.url.path for r in recorder.requests] == [f"/v1/jobs/{JOB_ID}/webhooks"] * 2
    assert table.code == as_json.code == 0
    lines = table.out.splitlines()
    assert lines[0].split() == ["TIME", "EVENT", "ANSWER", "OUTCOME", "NEXT", "TRY"]
    assert "500" in lines[1]
    assert "retrying" in lines[1]
    assert "2025-01-02 03:04:10" in lines[1]
    assert "timed out: read" in lines[2]
    assert "delivered" in lines[3]
    assert lines[3].rstrip().endswith("-")
    assert json.loads(as_json.out) == ATTEMPTS


def test_webhooks_of_a_job_with_none_yet_and_of_an_unknown_job() -> None:
    empty = run_cli(lambda r: httpx.Response(200, json={"attempts": []}), "webhooks", JOB_ID)
    assert (empty.code, empty.out) == (0, f"no webhook attempts for job {JOB_ID} yet\n")
    missing = httpx.Response(
        404,
        json={"status": 404, "detail": "no job x", "code": "not_found"},
        headers={"content-type": "application/problem+json"},
    )
    run = run_cli(lambda r: missing, "webhooks", "x")
    assert run.code == 3
    assert "no job x" in run.err
