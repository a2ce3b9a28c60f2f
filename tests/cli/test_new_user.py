"""Stumbles a new user hit walking the README (issue 19), run through `python -m cli`."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard


@pytest.fixture(scope="module")
def workerless_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Redis and the API, no worker: the API's URL."""
    stack = Stack(tmp_path_factory.mktemp("stack"))
    try:
        stack.start_redis()
        yield f"http://127.0.0.1:{stack.start_api().port}"
    finally:
        discard(stack)


def _llmb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)}
    command = [sys.executable, "-m", "cli", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=60, check=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_missing_batch_input_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"

    run = _llmb("--url", url, "batch", "submit", "nofile.jsonl", "--endpoint", "/v1/embeddings", cwd=tmp_path)

    assert run.returncode == 10
    assert run.stderr.startswith("error: cannot read nofile.jsonl: No such file or directory")
    assert "write" not in run.stderr


def test_a_folder_as_batch_input_says_it_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()

    run = _llmb("batch", "submit", "in", "--endpoint", "/v1/embeddings", cwd=tmp_path)

    assert (run.returncode, run.stderr.split(":")[:2]) == (10, ["error", " cannot read in"])


def test_an_unreachable_server_says_how_to_point_at_the_api(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"

    for args in (["status", "job_x"], ["batch", "status", "batch_x"]):
        run = _llmb("--url", url, *args, cwd=tmp_path)

        assert run.returncode == 5
        assert run.stderr.startswith(f"error: the server at {url} is unreachable (")
        assert "(set --url or LLMB_URL to the API's address)" in run.stderr


@pytest.mark.slow
def test_status_of_a_job_no_worker_serves_says_so(workerless_api: str, tmp_path: Path) -> None:
    submitted = _llmb("--url", workerless_api, "submit", "image", "a fox", "--steps", "2", cwd=tmp_path)
    assert submitted.returncode == 0, submitted.stderr

    run = _llmb("--url", workerless_api, "status", submitted.stdout.strip(), cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert "starts in: unknown: no worker serves the image queue" in run.stdout
    assert "no recent history" not in run.stdout


@pytest.mark.slow
def test_a_refused_webhook_is_said_once(workerless_api: str, tmp_path: Path) -> None:
    hook = "--webhook=http://127.0.0.1:9/hook"

    run = _llmb("--url", workerless_api, "submit", "image", "a fox", hook, cwd=tmp_path)

    assert run.returncode == 4
    assert run.stderr.startswith(
        "error: the webhook URL 'http://127.0.0.1:9/hook' must reach a public address"
    )
    assert run.stderr.count("must reach a public address") == 1
    assert len(run.stderr.splitlines()) == 1
