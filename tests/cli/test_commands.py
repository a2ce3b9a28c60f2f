"""Each command against a fake API: what it sends, what it prints, how it exits."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cli.main import main
from tests.cli.fakes import (
    JOB_ID,
    Recorder,
    job,
    run_cli,
    streams,
    succeeded,
)


def test_submit_sends_only_the_given_fields_and_prints_the_id() -> None:
    recorder = Recorder(lambda r: httpx.Response(202, json=job()))

    run = run_cli(
        recorder, "submit", "image", "a fox", "--width", "256", "--guidance", "3.5", "--negative", "blur"
    )

    assert (run.code, run.out) == (0, f"{JOB_ID}\n")
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("POST", "/v1/jobs")
    assert json.loads(request.content) == {
        "type": "image",
        "input": {"prompt": "a fox", "width": 256, "guidance_scale": 3.5, "negative_prompt": "blur"},
    }


def test_api_key_comes_from_the_environment_or_the_option() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=job("running")))  # a queued one asks /v1/queues

    run_cli(recorder, "status", JOB_ID, env={"LLMB_API_KEY": "from-env"})
    run_cli(recorder, "--api-key", "from-option", "status", JOB_ID, env={"LLMB_API_KEY": "from-env"})
    run_cli(recorder, "status", JOB_ID)

    assert [r.headers.get("authorization") for r in recorder.requests] == [
        "Bearer from-env",
        "Bearer from-option",
        None,
    ]


def test_url_comes_from_the_environment_and_global_options_may_follow_the_command() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=job("running")))  # a queued one asks /v1/queues
    out, err = streams()

    main(
        ["status", JOB_ID],
        env={"LLMB_URL": "http://env.test:8080"},
        transport=httpx.MockTransport(recorder),
        stdout=out,
        stderr=err,
    )
    run = run_cli(recorder, "status", JOB_ID, "--json", "--url", "http://late.test")

    assert [r.url.host for r in recorder.requests] == ["env.test", "late.test"]
    assert json.loads(run.out)["id"] == JOB_ID


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        (["submit", "image", "p"], job()),
        (["status", JOB_ID], job("running", progress={"step": 1, "total": 3})),
        (["cancel", JOB_ID], job("canceled")),
        (["list"], {"jobs": [job()], "next": None}),
        (["wait", JOB_ID], succeeded()),
    ],
)
def test_json_mode_prints_one_parsable_document(args: list[str], answer: dict[str, object]) -> None:
    run = run_cli(lambda r: httpx.Response(200, json=answer), "--json", *args)
    assert run.code == 0
    assert json.loads(run.out) == answer


def test_status_summarises_the_job_for_people() -> None:
    answer = job("queued", queue_position=3)
    running = job(
        "running", attempts=2, progress={"step": 4, "total": 20}, started_at="2025-01-02T03:04:06.000Z"
    )

    queued_run = run_cli(lambda r: httpx.Response(200, json=answer), "status", JOB_ID)
    running_run = run_cli(lambda r: httpx.Response(200, json=running), "status", JOB_ID)

    assert "status:    queued — position 3" in queued_run.out
    assert "status:    running — attempt 2" in running_run.out
    assert "progress:  4/20" in running_run.out
    assert "started:   2025-01-02 03:04:06" in running_run.out


def test_list_shows_a_table_with_full_ids() -> None:
    other = job("failed", id="0b6f3f5c-aaaa-4bbb-8ccc-dddddddddddd", finished_at="2025-01-02T03:05:00.000Z")
    run = run_cli(
        lambda r: httpx.Response(200, json={"jobs": [succeeded(), other], "next": None}),
        "list",
        "--limit",
        "2",
    )

    lines = run.out.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "STATUS", "CREATED", "FINISHED"]
    assert lines[1].split() == [
        JOB_ID,
        "image",
        "succeeded",
        "2025-01-02",
        "03:04:05",
        "2025-01-02",
        "03:04:07",
    ]
    assert lines[2].split()[:3] == [other["id"], "image", "failed"]


def test_submit_wait_saves_every_image_with_numbered_names(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202, json=job("queued", queue_position=1))
        if "/result/" in request.url.path:
            index = request.url.path.rsplit("/", 1)[1]
            return httpx.Response(200, content=f"png {index}".encode(), headers={"content-type": "image/png"})
        return httpx.Response(200, json=succeeded(files=3))

    run = run_cli(
        handle, "submit", "image", "p", "--num-images", "3", "--wait", "-o", str(tmp_path / "out.png")
    )

    assert run.code == 0
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
        "out.png": b"png 0",
        "out-1.png": b"png 1",
        "out-2.png": b"png 2",
    }
    assert f"wrote {tmp_path / 'out-2.png'} (5 bytes, image/png)" in run.out


def test_result_prints_json_results_and_refuses_bytes_without_a_file() -> None:
    embed = httpx.Response(200, json={"embeddings": [[0.5, 0.25]]})
    image = httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})

    json_run = run_cli(lambda r: embed, "result", JOB_ID)
    bytes_run = run_cli(lambda r: image, "result", JOB_ID)

    assert (json_run.code, json.loads(json_run.out)) == (0, {"embeddings": [[0.5, 0.25]]})
    assert bytes_run.code == 2
    assert "the result is image/png; save it with -o FILE" in bytes_run.err


def test_result_writes_the_chosen_file(tmp_path: Path) -> None:
    recorder = Recorder(
        lambda r: httpx.Response(200, content=b"\x89PNG 1", headers={"content-type": "image/png"})
    )

    run = run_cli(recorder, "result", JOB_ID, "--index", "1", "-o", str(tmp_path / "one.png"))

    assert run.code == 0
    assert (tmp_path / "one.png").read_bytes() == b"\x89PNG 1"
    assert recorder.requests[0].url.path == f"/v1/jobs/{JOB_ID}/result/1"
