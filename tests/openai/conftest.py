"""One deployment for tests/openai: Redis, the API (gunicorn, auth on) and a worker with the three models.

The worker runs the tiny diffusers model, the tiny chat model (through tests.openai.pipelines) and the
real all-MiniLM-L6-v2; a failed test prints the end of each service's log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from devtools.stack.process import Service
from tests.fixtures.stacks import discard

ADMIN_KEY = "openai-tests-admin-key"
TERMINAL = {"succeeded", "failed", "canceled"}
CHAT_MODEL = "tiny-chat"
EMBED_MODEL = "all-MiniLM-L6-v2"
IMAGE_MODEL = "tiny-sd"


@dataclass
class Deployment:
    """The running stack, its API's address, an admin client, and the worker's service."""

    stack: Stack
    api: Service
    worker: Service
    admin: httpx.Client

    @property
    def base(self) -> str:
        """The API's root URL."""
        return f"http://127.0.0.1:{self.api.port}"

    def new_key(self, name: str, **limits: Any) -> str:
        """A fresh API key (its own tenant), with any per-key limits or scopes."""
        reply = self.admin.post("/v1/keys", json={"name": name, **limits})
        assert reply.status_code == 201, reply.text
        return str(reply.json()["key"])


class Native:
    """The native job API with one key, where the jobs of the OpenAI routes are seen and canceled."""

    def __init__(self, base: str, key: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    def close(self) -> None:
        """Close its connections."""
        self.http.close()

    def submit(self, job_type: str, job_input: dict[str, Any]) -> str:
        """Post a job; its id."""
        reply = self.http.post("/v1/jobs", json={"type": job_type, "input": job_input})
        assert reply.status_code == 202, reply.text
        return str(reply.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        """The job now."""
        reply = self.http.get(f"/v1/jobs/{job_id}")
        assert reply.status_code == 200, reply.text
        job: dict[str, Any] = reply.json()
        return job

    def decoding(self, job_id: str) -> dict[str, Any]:
        """The job once its batch's model call runs (a token generated): its batch has taken its mates.

        "running" alone is not that: a job is running from its claim, while its batch still gathers
        the jobs that arrive within LLMB_BATCH_WAIT_MS, which would take a job meant to wait behind it.
        """
        return self.until(
            job_id, lambda j: j["status"] == "running" and (j["progress"] or {}).get("step", 0) >= 1
        )

    def until(
        self, job_id: str, check: Callable[[dict[str, Any]], bool], *, timeout: float = 120
    ) -> dict[str, Any]:
        """The job once `check` holds for it (read every 20 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if check(job):
                return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} never matched; last seen {job}")

    def finished(self, job_id: str, *, timeout: float = 120) -> dict[str, Any]:
        """The job once it is terminal."""
        return self.until(job_id, lambda j: j["status"] in TERMINAL, timeout=timeout)

    def cancel(self, job_id: str) -> None:
        """Cancel the job (it may have finished already)."""
        self.http.post(f"/v1/jobs/{job_id}/cancel")


@pytest.fixture(scope="package")
def tiny_models() -> Path:
    """The small local models `make models` builds, built once if missing."""
    from worker.tinymodels.__main__ import main as build

    out = REPO / "var" / "models"
    assert build(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Iterator[Deployment]:
    stack = Stack(tmp_path_factory.mktemp("openai"))
    try:
        stack.start_redis()
        env = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN_KEY, "LLMB_OPENAI_WAIT_S": "120"}
        env["LLMB_CHAT_MODEL"] = str(tiny_models / "tiny-chat")  # the API reads its context (config.json)
        api = stack.start_api(workers=1, env=env)
        worker_env = {
            "LLMB_IMAGE_MODEL": str(tiny_models / "tiny-sd"),
            "LLMB_CHAT_MODEL": str(tiny_models / "tiny-chat"),
            "LLMB_CHAT_PIPELINE": "tests.openai.pipelines:ForcedChatPipeline",
            "LLMB_BATCH_MAX": "4",
            "LLMB_BATCH_WAIT_MS": "50",
            "LLMB_EVENT_INTERVAL_MS": "1",  # a token event nearly every step: many small chunks to check
            # One delivery at a time that gathers its batch mates (a prefork pool process): a job
            # submitted behind a running one stays queued (the 503 and 504 tests count on it) instead
            # of being claimed to wait for the device; the threads pool is shown in tests/worker and
            # tests/integration.
            "LLMB_WORKER_POOL": "prefork",
        }
        worker = stack.start_worker(queues="image,chat,embed", env=worker_env, name="openai-worker")
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", headers=headers, timeout=120) as admin:
            yield Deployment(stack, api, worker, admin)
    finally:
        discard(stack)


@pytest.fixture(scope="package")
def key(deployment: Deployment) -> str:
    """A key of the default scopes and limits, for the tests that share it."""
    return deployment.new_key("openai-tests")


@pytest.fixture
def sdk_for(deployment: Deployment) -> Iterator[Callable[..., openai.OpenAI]]:
    """The official client, unchanged, pointed at the API's /v1 with a key; closed after the test."""
    opened: list[openai.OpenAI] = []

    def make(api_key: str, **options: Any) -> openai.OpenAI:
        client = openai.OpenAI(base_url=f"{deployment.base}/v1", api_key=api_key, **options)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def client(sdk_for: Callable[..., openai.OpenAI], key: str) -> openai.OpenAI:
    return sdk_for(key)


@pytest.fixture
def native_for(deployment: Deployment) -> Iterator[Callable[[str], Native]]:
    """Native job API clients by key; closed after the test."""
    opened: list[Native] = []

    def make(api_key: str) -> Native:
        opened.append(Native(deployment.base, api_key))
        return opened[-1]

    yield make
    for native in opened:
        native.close()


@pytest.fixture
def native(native_for: Callable[[str], Native], key: str) -> Native:
    return native_for(key)


@pytest.fixture(autouse=True)
def service_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed test that used the deployment, the end of each service's log."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and "deployment" in request.fixturenames:
        for svc in request.getfixturevalue("deployment").stack.services:
            print(f"----- {svc.name} -----\n{svc.log()[-4000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
