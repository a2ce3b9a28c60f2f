"""`llmb embed` and `llmb submit chat|embed`: requests, the vectors table, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from cli.client import Job
from cli.embed import norm, preview
from tests.cli.fakes import JOB_ID, FakeApi, done_frame, job, run_cli, sse, status_frame

VECTORS = [[0.6, 0.8, 0.0, 0.0, 0.0], [-0.123456, 0.0, 1.0, 0.0, 0.0]]
RESULT = {"model": "all-MiniLM-L6-v2", "dimensions": 5, "embeddings": VECTORS}


def embed_job(status: str = "queued", **fields: Any) -> Job:
    result = RESULT if status == "succeeded" else None
    return job(status, type="embed", input={"input": ["a", "b"]}, result=result, **fields)


def finished_api() -> FakeApi:
    final = embed_job("succeeded", progress={"step": 1, "total": 1})
    stream = sse(status_frame("running", 1), status_frame("succeeded", 2), done_frame(final))
    return FakeApi(current=embed_job("queued", queue_position=1), streams=[stream])


def test_embed_sends_every_text_and_prints_a_row_for_each() -> None:
    api = finished_api()
    long_text = "a [bold]cat[/bold] sat on the\nmat, and then it sat on the other mat too"

    run = run_cli(api, "embed", "a cat", long_text)

    assert run.code == 0
    assert api.sent() == [{"type": "embed", "input": {"input": ["a cat", long_text]}}]
    lines = run.out.splitlines()
    assert lines[0].split() == ["#", "TEXT", "DIMS", "FIRST", "VALUES", "NORM"]
    assert lines[1].split() == [
        "0",
        "a",
        "cat",
        "5",
        "+0.6000",
        "+0.8000",
        "+0.0000",
        "+0.0000",
        "…",
        "1.0000",
    ]
    assert lines[2].split()[:2] == ["1", "a"]
    assert "a [bold]cat[/bold] sat on the mat, and …" in lines[2]  # markup shown as written
    assert lines[2].split()[-7:] == ["5", "-0.1235", "+0.0000", "+1.0000", "+0.0000", "…", "1.0076"]


def test_embed_json_prints_the_vectors() -> None:
    run = run_cli(finished_api(), "--json", "embed", "a", "b")
    assert (run.code, json.loads(run.out), run.err) == (0, RESULT, "")


def test_embed_that_failed_exits_1() -> None:
    final = embed_job("failed", error={"code": "invalid_input", "message": "text too long"})
    api = FakeApi(current=embed_job("running"), streams=[sse(status_frame("failed", 1), done_frame(final))])

    run = run_cli(api, "embed", "x")

    assert (run.code, run.out) == (1, "")
    assert run.err == f"error: job {JOB_ID} failed: invalid_input: text too long\n"


def test_embed_already_done_on_submit_needs_no_stream() -> None:
    api = FakeApi(current=embed_job("succeeded"))
    run = run_cli(api, "--json", "embed", "a")
    assert json.loads(run.out)["dimensions"] == 5
    assert api.paths() == ["POST /v1/jobs"]


def test_ctrl_c_while_waiting_cancels_the_embed_job() -> None:
    api = FakeApi(
        current=embed_job("queued"), streams=[sse(status_frame("running", 1), fail=KeyboardInterrupt())]
    )

    run = run_cli(api, "embed", "a")

    assert (run.code, run.err) == (130, f"error: interrupted; job {JOB_ID} canceled\n")
    assert api.paths()[-1] == f"POST /v1/jobs/{JOB_ID}/cancel"


def test_preview_and_norm() -> None:
    assert preview("  two\n lines ") == "two lines"
    assert preview("x" * 50, width=10) == "x" * 9 + "…"
    assert norm([3.0, 4.0]) == 5.0


def test_submit_chat_and_embed_print_the_id() -> None:
    api = FakeApi(current=embed_job("queued"))

    chat = run_cli(api, "submit", "chat", "hi", "--max-tokens", "8")
    embed = run_cli(api, "submit", "embed", "a", "b")

    assert (chat.code, chat.out, embed.code, embed.out) == (0, f"{JOB_ID}\n", 0, f"{JOB_ID}\n")
    assert api.sent() == [
        {"type": "chat", "input": {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}},
        {"type": "embed", "input": {"input": ["a", "b"]}},
    ]


def test_submit_embed_wait_saves_the_result_json(tmp_path: Path) -> None:
    api = finished_api()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/result"):
            return httpx.Response(200, json=RESULT)
        return api(request)

    run = run_cli(handler, "submit", "embed", "a", "b", "-o", str(tmp_path / "v.json"))

    assert run.code == 0
    assert json.loads((tmp_path / "v.json").read_text()) == RESULT
    assert f"wrote {tmp_path / 'v.json'}" in run.out
