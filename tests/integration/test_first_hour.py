"""The first hour's stumbles, checked on the API under gunicorn: error messages in our words, the 413 for
any body over the limit, the listed Hosts, /docs' CSP, the hint for a local webhook receiver, the demo
models' mark, and `make stresstest`'s job load."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from devtools.stack.process import Service
from tests.fixtures.stacks import discard

LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Service]]:
    stack = Stack(tmp_path_factory.mktemp("first-hour"))
    stack.start_redis()
    try:
        yield stack, stack.start_api()
    finally:
        discard(stack)


@pytest.fixture
def http(api: tuple[Stack, Service]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{api[1].port}", timeout=30) as client:
        yield client


def raw_status(port: int, head: bytes, body: Iterator[bytes]) -> int:
    """Send a request by hand (a GET with a body), reading the answer's status once the body is sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for piece in body:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it answered, and closed, before the rest of the body
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1])


def test_a_get_with_a_body_over_the_limit_is_413_however_it_is_framed(api: tuple[Stack, Service]) -> None:
    port = api[1].port
    size = 50 * LIMIT
    sized = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n\r\n".encode()
    assert raw_status(port, sized, iter([b"x" * LIMIT] * 2)) == 413
    chunked = b"GET /v1/queues HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n" % (64 * 1024) + b"x" * (64 * 1024) + b"\r\n"
    assert raw_status(port, chunked, iter([chunk] * 20 + [b"0\r\n\r\n"])) == 413
    small = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
    assert raw_status(port, small, iter([b"hello"])) == 200


@pytest.mark.parametrize(
    "host", ["LOCALHOST", "localhost", "Localhost:{port}", "[::1]:{port}", "127.0.0.1:{port}"]
)
def test_the_listed_hosts_are_answered_whatever_their_case(
    http: httpx.Client, api: tuple[Stack, Service], host: str
) -> None:
    assert http.get("/v1/queues", headers={"Host": host.format(port=api[1].port)}).status_code == 200


def test_another_host_is_refused(http: httpx.Client) -> None:
    answer = http.get("/v1/queues", headers={"Host": "rebind.example"})
    assert answer.status_code == 400
    assert "rebind.example" in answer.json()["detail"]


def test_docs_has_a_content_security_policy(http: httpx.Client) -> None:
    csp = http.get("/docs").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


def test_a_loopback_webhook_receiver_gets_a_422_naming_the_setting_that_opens_it(http: httpx.Client) -> None:
    body = {"type": "embed", "input": {"input": "x"}, "webhook": {"url": "http://127.0.0.1:9000/hook"}}
    answer = http.post("/v1/jobs", json=body)
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "webhook.url"
    assert "LLMB_WEBHOOK_ALLOW_NETS" in error["message"]


def test_validation_messages_are_ours(http: httpx.Client) -> None:
    missing = http.post("/v1/jobs", json={"input": {"prompt": "x"}}).json()["errors"]
    assert missing == [
        {"field": "type", "message": "is required: one of image, chat, embed", "type": "union_tag_not_found"}
    ]
    broken = http.post(
        "/v1/jobs", content=b'{"type": "image",, }', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert "line 1, column 18" in broken.json()["detail"]


def test_v1_models_marks_the_demo_models(http: httpx.Client) -> None:
    models = {m["id"]: m for m in http.get("/v1/models").json()["data"]}
    assert models["tiny-chat"]["demo"] is True
    assert "random weights" in models["tiny-chat"]["note"]


def test_make_stresstest_loads_the_queue_with_jobs_for_the_duration_given(
    http: httpx.Client, api: tuple[Stack, Service]
) -> None:
    env = {**os.environ, "URL": f"http://127.0.0.1:{api[1].port}"}
    cmd = ["make", "--no-print-directory", "stresstest", "LOAD=jobs", "DURATION=2s", "CONCURRENCY=2"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "[202]" in done.stdout  # hey's status code distribution
    assert (
        http.get("/v1/queues").json()["queues"]["embed"]["waiting"] > 0
    )  # no worker runs here: the jobs wait, what KEDA scales the workers on
    refused = subprocess.run(
        [*cmd[:3], "LOAD=everything"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "LOAD must be health (the API alone) or jobs" in refused.stderr


def test_stresstest_takes_no_bad_duration(tmp_path: Path) -> None:
    cmd = ["make", "--no-print-directory", "stresstest", "DURATION=forever", "URL=http://127.0.0.1:1"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert "DURATION must read like 30s" in done.stderr
