"""The real `llmb` process against a real stack: Redis, the API under gunicorn, a Celery worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools.stack import REPO, Stack

pytestmark = pytest.mark.slow

SCRIPTED = {"LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:ScriptedImagePipeline"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    stack = Stack(tmp_path_factory.mktemp("stack"))
    try:
        stack.start_redis()
        api = stack.start_api()
        stack.start_worker(env=SCRIPTED)
        yield f"http://127.0.0.1:{api.port}"
    finally:
        stack.stop()


def llmb(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as its own process, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    cmd = [sys.executable, "-m", "cli", "--url", url, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO, env=env, check=False)


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


def test_cancel_stops_a_slow_job_and_list_shows_it(api_url: str) -> None:
    job_id = llmb(api_url, "submit", "image", "slow:0.2", "--steps", "50").stdout.strip()

    canceled = llmb(api_url, "cancel", job_id)
    status = llmb(api_url, "status", job_id, "--json")
    again = llmb(api_url, "cancel", job_id)
    listing = llmb(api_url, "list", "--limit", "5")
    listed = llmb(api_url, "--json", "list", "--limit", "5")

    assert (canceled.returncode, canceled.stdout) == (0, f"{job_id} canceled\n")
    assert json.loads(status.stdout)["status"] == "canceled"
    assert (again.returncode, again.stderr) == (6, f"error: job {job_id} is already canceled\n")
    assert any(line.split()[:3] == [job_id, "image", "canceled"] for line in listing.stdout.splitlines())
    assert json.loads(listed.stdout)["jobs"][0]["id"] == job_id
