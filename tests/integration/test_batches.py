"""/v1/files and /v1/batches with the official openai SDK, through gunicorn, a real worker and the runner."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types import Batch, ImagesResponse

from cli.main import main as cli_main
from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard
from tests.integration.conftest import SCRIPTED

ADMIN = "batch-tests-admin-key"
SECURE = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}
ENDED = {"completed", "failed", "expired", "cancelled"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, int]]:
    """Redis, the API, a scripted image worker taking one job at a time, and the batch runner."""
    stack = Stack(tmp_path_factory.mktemp("batches"))
    try:
        stack.start_redis()
        api = stack.start_api(workers=1, env=SECURE)
        # One job at a time: the lines behind the running one stay queued (LLMB_CONCURRENCY=1).
        stack.start_worker(env={**SCRIPTED, "LLMB_BATCH_MAX": "1", "LLMB_CONCURRENCY": "1"})
        stack.start_batches(env=SECURE)
        yield stack, api.port
    except BaseException:
        for svc in stack.services:
            print(f"----- {svc.name} -----\n{svc.log()[-4000:]}")
        raise
    finally:
        discard(stack)


def new_key(port: int) -> str:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as admin:
        made = admin.post("/v1/keys", json={"name": "batches"}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


@pytest.fixture
def sdk(deployment: tuple[Stack, int]) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{deployment[1]}/v1", api_key=new_key(deployment[1]))
    yield client
    client.close()


def image_line(custom_id: str, prompt: str, **body: Any) -> dict[str, Any]:
    request = {"prompt": prompt, "size": "64x64", "response_format": "b64_json", **body}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/images/generations", "body": request}


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)


def until_ended(sdk: openai.OpenAI, batch_id: str, timeout: float = 120) -> Batch:
    deadline = time.monotonic() + timeout
    while (batch := sdk.batches.retrieve(batch_id)).status not in ENDED:
        assert time.monotonic() < deadline, f"the batch never ended: {batch}"
        time.sleep(0.1)
    return batch


def read_lines(sdk: openai.OpenAI, file_id: str | None) -> dict[str, dict[str, Any]]:
    if file_id is None:
        return {}
    lines = [json.loads(line) for line in sdk.files.content(file_id).text.splitlines()]
    return {line["custom_id"]: line for line in lines}


def submit(sdk: openai.OpenAI, lines: list[Any]) -> Batch:
    uploaded = sdk.files.create(file=("in.jsonl", jsonl(lines)), purpose="batch")
    assert (uploaded.purpose, uploaded.bytes) == ("batch", len(jsonl(lines)))
    made = sdk.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/images/generations",
        completion_window="24h",
        metadata={"n": "1"},
    )
    assert (made.status, made.metadata) == ("validating", {"n": "1"})
    return made


def test_a_batch_runs_every_line_as_a_job_and_answers_as_the_route_would(sdk: openai.OpenAI) -> None:
    good = [image_line(f"ok-{i}", "ok") for i in range(3)]
    bad = image_line("bad-size", "ok", size="huge")
    batch = until_ended(sdk, submit(sdk, [*good, bad, b"{not json"]).id)
    assert batch.status == "completed", batch
    counts = batch.request_counts
    assert counts is not None
    assert (counts.total, counts.completed, counts.failed) == (5, 3, 2)
    assert batch.completed_at is not None
    assert batch.in_progress_at is not None
    output, errors = read_lines(sdk, batch.output_file_id), read_lines(sdk, batch.error_file_id)
    assert sorted(output) == ["ok-0", "ok-1", "ok-2"]
    synchronous = sdk.images.generate(prompt="ok", size="64x64", response_format="b64_json")  # type: ignore[arg-type]
    for line in output.values():
        assert line["response"]["status_code"] == 200
        answered = ImagesResponse.model_validate(line["response"]["body"])
        assert answered.data == synchronous.data
    assert sorted(errors, key=str) == [None, "bad-size"]  # the unreadable line has no custom_id
    with httpx.Client(base_url=str(sdk.base_url), headers={"Authorization": f"Bearer {sdk.api_key}"}) as http:
        refused = http.post("/images/generations", json=bad["body"])
        job = http.get(f"/jobs/{output['ok-0']['response']['request_id']}").json()
    assert errors["bad-size"]["response"] == {"status_code": 400, "request_id": None, "body": refused.json()}
    assert (job["priority"], job["batch_id"]) == ("batch", batch.id)
    assert batch.id in [b.id for b in sdk.batches.list()]
    with pytest.raises(openai.NotFoundError):
        sdk.batches.retrieve("batch_unknown")
    with pytest.raises(openai.BadRequestError) as refused_upload:
        sdk.files.create(file=("in.jsonl", jsonl(good)), purpose="fine-tune")
    assert refused_upload.value.param == "purpose"


def test_cancel_stops_queued_lines_and_lets_the_running_one_finish(
    sdk: openai.OpenAI, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    lines = [image_line(f"hold-{i}", f"hold:{release}") for i in range(3)]
    batch = submit(sdk, lines)
    http = httpx.Client(base_url=str(sdk.base_url), headers={"Authorization": f"Bearer {sdk.api_key}"})
    try:
        deadline = time.monotonic() + 60
        while not any(j["status"] == "running" for j in http.get("/jobs").json()["jobs"]):
            assert time.monotonic() < deadline, "no line started"
            time.sleep(0.05)
        assert sdk.batches.cancel(batch.id).status == "cancelling"
        while any(j["status"] == "queued" for j in http.get("/jobs").json()["jobs"]):
            assert time.monotonic() < deadline, "the queued lines were not canceled"
            time.sleep(0.05)
        assert sdk.batches.retrieve(batch.id).status == "cancelling"  # the running line goes on
        release.touch()
        ended = until_ended(sdk, batch.id)
    finally:
        http.close()
    assert ended.status == "cancelled"
    assert ended.cancelled_at is not None
    assert ended.cancelling_at is not None
    output, errors = read_lines(sdk, ended.output_file_id), read_lines(sdk, ended.error_file_id)
    assert len(output) == 1
    assert len(errors) == 2
    assert {e["error"]["code"] for e in errors.values()} == {"batch_cancelled"}
    assert set(output) | set(errors) == {"hold-0", "hold-1", "hold-2"}


def test_past_its_window_a_batch_expires_with_the_unfinished_lines_as_batch_expired(
    deployment: tuple[Stack, int], tmp_path: Path
) -> None:
    stack, _ = deployment
    short = stack.start_api(workers=1, env={**SECURE, "LLMB_LIMITS__BATCH_WINDOW_S": "3"})
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{short.port}/v1", api_key=new_key(short.port))
    try:
        lines = [image_line(f"hold-{i}", f"hold:{tmp_path / 'never'}") for i in range(2)]
        made = submit(client, lines)
        assert made.expires_at - made.created_at == 3
        ended = until_ended(client, made.id)
        assert ended.status == "expired"
        assert ended.expired_at is not None
        assert ended.expired_at >= made.expires_at
        errors = read_lines(client, ended.error_file_id)
        assert ended.output_file_id is None
        assert {k: e["error"]["code"] for k, e in errors.items()} == {
            "hold-0": "batch_expired",
            "hold-1": "batch_expired",
        }
    finally:
        client.close()


def test_llmb_batch_submits_follows_downloads_and_refuses_a_late_cancel(
    deployment: tuple[Stack, int], tmp_path: Path
) -> None:
    port = deployment[1]
    env = {"LLMB_URL": f"http://127.0.0.1:{port}", "LLMB_API_KEY": new_key(port)}

    def llmb(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli_main(list(argv), env=env, stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()

    requests = tmp_path / "requests.jsonl"
    requests.write_bytes(jsonl([image_line("a", "ok"), image_line("b", "ok", size="huge")]))
    code, out, _ = llmb(
        "batch", "submit", str(requests), "--endpoint", "/v1/images/generations", "--wait", "--json"
    )
    batch = json.loads(out)
    assert (code, batch["status"], batch["request_counts"]) == (
        0,
        "completed",
        {"total": 2, "completed": 1, "failed": 1},
    )
    assert llmb("batch", "download", batch["id"], "-o", str(tmp_path / "out.jsonl"))[0] == 0
    assert [json.loads(x)["custom_id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == ["a"]
    code, out, _ = llmb("batch", "download", batch["id"], "--errors")
    assert (code, json.loads(out)["response"]["status_code"]) == (0, 400)
    assert llmb("batch", "status", batch["id"]) == (
        0,
        f"{batch['id']} completed: 1 completed, 1 failed of 2\n",
        "",
    )
    code, _, err = llmb("batch", "cancel", batch["id"])
    assert (code, err) == (6, f"error: the batch {batch['id']} has already ended: completed\n")
    code, _, err = llmb("batch", "status", "batch_unknown")
    assert (code, err) == (3, "error: No batch found with id 'batch_unknown'\n")
