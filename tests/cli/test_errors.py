"""Exit codes and messages: API errors, unreachable servers, bad usage, local failures."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cli.main import main
from devtools import REPO
from tests.cli.fakes import JOB_ID, Recorder, dropped, job, problem, run_cli, status_frame, streams


@pytest.mark.parametrize(
    ("answer", "exit_code"),
    [
        (problem(404, f"no job {JOB_ID}", code="not_found"), 3),
        (problem(400, "the body is not valid JSON", code="malformed_body"), 4),
        (problem(413, "the body is too large", code="request_entity_too_large"), 4),
        (problem(422, "wait must be an integer from 0 to 60", code="invalid_input"), 4),
        (problem(409, f"job {JOB_ID} has already ended: succeeded", code="conflict"), 6),
        (problem(403, "this key lacks the scope jobs:write", code="forbidden"), 8),
        (problem(500, "the server failed; the error is logged", code="internal"), 5),
        (problem(503, "Redis does not answer", code="unavailable"), 5),
    ],
)
def test_api_errors_print_the_detail_and_exit_with_their_code(answer: httpx.Response, exit_code: int) -> None:
    run = run_cli(lambda r: answer, "cancel", JOB_ID)

    assert run.code == exit_code
    assert run.err == f"error: {answer.json()['detail']}\n"
    assert run.out == ""


def test_unknown_job_says_so() -> None:
    run = run_cli(lambda r: problem(404, "no job nope", code="not_found"), "status", "nope")
    assert (run.code, run.err) == (3, "error: no job nope\n")


def test_field_errors_are_listed_under_the_detail() -> None:
    errors = [
        {"field": "input.width", "message": "must be between 64 and 1024"},
        {"field": "input.steps", "message": "steps must be at most 50"},
    ]
    answer = problem(422, "the image input is invalid", code="invalid_input", errors=errors)

    run = run_cli(lambda r: answer, "submit", "image", "p", "--width", "4096", "--steps", "99")

    assert run.code == 4
    assert run.err.splitlines() == [
        "error: the image input is invalid",
        "  input.width: must be between 64 and 1024",
        "  input.steps: steps must be at most 50",
    ]


def test_connection_refused_names_the_server_without_traceback() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        out, err = streams()
        code = main(["--url", f"http://127.0.0.1:{port}", "status", JOB_ID], env={}, stdout=out, stderr=err)

    assert code == 5
    assert err.getvalue().startswith(f"error: the server at http://127.0.0.1:{port} is unreachable")
    assert "Traceback" not in err.getvalue()


def test_an_unwritable_output_is_reported(tmp_path: Path) -> None:
    image = httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})
    run = run_cli(lambda r: image, "result", JOB_ID, "-o", str(tmp_path / "missing" / "x.png"))
    assert run.code == 9
    assert run.err.startswith(f"error: cannot write {tmp_path / 'missing' / 'x.png'}")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["status"],
        ["list", "--limit", "0"],
        ["submit", "image", "p", "--width", "wide"],
        ["--url", "api.test", "list"],
        ["chat"],
        ["chat", "hi", "--max-tokens", "many"],
        ["chat", "--stop", "x", "hi"],  # --stop takes every word after it: the prompt is missing
        ["embed"],
        ["submit", "embed"],
    ],
)
def test_bad_usage_exits_2_without_calling_the_api(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={}))
    out, err = streams()

    code = main(args, env={}, transport=httpx.MockTransport(recorder), stdout=out, stderr=err)

    assert code == 2
    assert recorder.requests == []
    assert "usage: llmb" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "image", "--help"], env={}) == 0
    assert "out-1.png" in capsys.readouterr().out
    assert main(["chat", "--help"], env={}) == 0
    assert "Ctrl-C cancels the job" in capsys.readouterr().out


def test_following_an_unknown_job_exits_3() -> None:
    run = run_cli(lambda r: problem(404, f"no job {JOB_ID}", code="not_found"), "wait", JOB_ID)
    assert (run.code, run.err) == (3, f"error: no job {JOB_ID}\n")


@pytest.mark.parametrize(
    ("events", "exit_code", "message"),
    [
        (problem(401, "an API key is required", code="unauthorized"), 8, "the server needs an API key"),
        (problem(422, "Last-Event-ID must be an event id", code="invalid_input"), 4, "Last-Event-ID must be"),
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            5,
            "the server at http://api.test is unreachable",
        ),
    ],
)
def test_event_stream_failures_exit_with_their_code(
    events: httpx.Response | Exception, exit_code: int, message: str
) -> None:
    opened = False

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal opened
        if not request.url.path.endswith("/events"):
            return httpx.Response(200, json=job("running"))
        if not opened:  # the first stream works, then breaks off: the CLI reconnects
            opened = True
            return dropped(status_frame("running", 1))
        if isinstance(events, Exception):
            raise events
        return events

    run = run_cli(handle, "wait", JOB_ID)

    assert run.code == exit_code
    assert run.err.startswith(f"error: {message}")
    assert "Traceback" not in run.err


def test_the_cli_imports_no_server_code() -> None:
    # Of shared/, only the stdlib-only number reader, so the CLI reads numbers as the API does.
    code = (
        "import sys, cli.main\n"
        "banned = {'api', 'shared', 'worker', 'devtools', 'torch', 'flask', 'pydantic', 'celery', 'redis'}\n"
        "names = set(sys.modules) - {'shared', 'shared.numbers'}\n"
        "print(sorted({m.split('.')[0] for m in names} & banned))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert found.stdout == "[]\n"
