"""Real processes: redis-server, the API under gunicorn, Celery workers, optionally SeaweedFS S3."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard

SCRIPTED = {"LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:ScriptedImagePipeline"}
TERMINAL = {"succeeded", "failed", "canceled"}


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    """The small local models `make models` builds, built once if missing."""
    from worker.tinymodels.__main__ import main as build

    out = REPO / "var" / "models"
    assert build(["--out", str(out)]) == 0
    return out


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    st = Stack(tmp_path)
    st.start_redis(appendonly=True)
    yield st
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for svc in st.services:
            print(f"----- {svc.name} -----\n{svc.log()[-4000:]}")
    discard(st)


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    """Close every Api client the test opened (a module's own clients close with their fixture)."""
    before = len(Api.opened)
    yield
    while len(Api.opened) > before:
        Api.opened.pop().close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}


def finished_with(api: httpx.Client, key: str, job_id: str) -> dict[str, Any]:
    """The job once it ended, read with `key` (long-waits of 5 s, up to 5 minutes)."""
    for _ in range(60):
        job: dict[str, Any] = api.get(f"/v1/jobs/{job_id}", params={"wait": 5}, headers=bearer(key)).json()
        if job["status"] in TERMINAL:
            return job
    raise AssertionError(f"job {job_id} never ended: {job}")


class Api:
    """A small HTTP client for the API under test; `close_clients` closes those a test opened."""

    opened: ClassVar[list[Api]] = []

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.base, timeout=90)
        Api.opened.append(self)

    def close(self) -> None:
        """Close the client's connections."""
        self.http.close()

    def submit(self, prompt: str = "ok", *, wait: int = 0, **input_: Any) -> dict[str, Any]:
        body = {"type": "image", "input": {"prompt": prompt, "steps": 1, "width": 64, "height": 64, **input_}}
        headers = {"Prefer": f"wait={wait}"} if wait else {}
        response = self.http.post("/v1/jobs", json=body, headers=headers)
        assert response.status_code in (200, 202), response.text
        job: dict[str, Any] = response.json()
        return job

    def job(self, job_id: str, *, wait: int = 0) -> dict[str, Any]:
        response = self.http.get(f"/v1/jobs/{job_id}", params={"wait": wait} if wait else None)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def until(
        self, job_id: str, check: Callable[[dict[str, Any]], bool], *, timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if check(job):
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} never matched; last seen {job}")

    def finished(self, job_id: str, *, timeout: float = 60) -> dict[str, Any]:
        return self.until(job_id, lambda j: j["status"] in TERMINAL, timeout=timeout)
