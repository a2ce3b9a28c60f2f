"""`make stresstest` checks the API before the load: it answers /health, and takes the jobs load's key."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from devtools.stack.process import free_port
from tests.fixtures.stacks import discard

ADMIN = "admin-key-for-the-stresstest-checks"


@pytest.fixture(scope="module")
def secure_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Redis and the API with auth on: its URL."""
    stack = Stack(tmp_path_factory.mktemp("stresstest"))
    try:
        stack.start_redis()
        yield f"http://127.0.0.1:{stack.start_api(env={'LLMB_AUTH': 'on', 'LLMB_ADMIN_KEY': ADMIN}).port}"
    finally:
        discard(stack)


def stresstest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
    cmd = ["make", "--no-print-directory", "stresstest", "DURATION=1s", "CONCURRENCY=1", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_no_api_at_the_url_fails_fast_saying_what_to_do(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    done = stresstest(f"URL={url}")

    assert done.returncode != 0
    assert f"nothing healthy answers {url}/health" in done.stderr
    assert "start the API (make run), or pass URL= (or PORT=)" in done.stderr
    assert "Status code distribution" not in done.stdout  # hey never ran


def test_the_jobs_load_without_a_key_where_auth_is_on_says_to_pass_one(secure_url: str) -> None:
    done = stresstest(f"URL={secure_url}", "LOAD=jobs")

    assert done.returncode != 0
    assert f"{secure_url} refuses POST /v1/jobs (HTTP 401)" in done.stderr
    assert "pass KEY=<an API key with jobs:write> or set LLMB_API_KEY" in done.stderr
    assert "Status code distribution" not in done.stdout


def test_the_health_load_runs_where_auth_is_on(secure_url: str) -> None:
    done = stresstest(f"URL={secure_url}")

    assert done.returncode == 0, done.stderr
    assert "[200]" in done.stdout  # hey's status code distribution
