"""Caps on held requests (event streams, long-waits) across two real API processes, and slow clients."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from typing import Any

import httpx
import pytest
from redis import Redis

from devtools.stack.deployment import Stack
from shared.store.holds import Holds
from tests.integration.conftest import bearer

ADMIN = "integration-admin-key"
CAPS = {
    "LLMB_AUTH": "on",
    "LLMB_ADMIN_KEY": ADMIN,
    "LLMB_LIMITS__KEY_MAX_STREAMS": "3",
    "LLMB_LIMITS__TENANT_MAX_STREAMS": "5",
    "LLMB_LIMITS__BODY_TIMEOUT_S": "2",
}
IMAGE = {"type": "image", "input": {"prompt": "ok", "width": 64, "height": 64, "steps": 1}}
PROMPT_S = 2.0  # "promptly": what another tenant's request may take while one key holds its cap


@pytest.fixture
def ports(stack: Stack) -> list[int]:
    """Two API processes (gunicorn, one worker each) on one Redis, caps of 3 per key and 5 per tenant."""
    return [stack.start_api(env=CAPS).port for _ in range(2)]


@pytest.fixture
def admin(ports: list[int]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as client:
        yield client


def make_key(admin: httpx.Client, name: str, **body: Any) -> str:
    made = admin.post("/v1/keys", json={"name": name, **body}, headers=bearer(ADMIN))
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]
    return key


def queued_job(admin: httpx.Client, key: str) -> str:
    """A job no worker takes (none runs here): it stays queued, so streams and waits on it stay open."""
    made = admin.post("/v1/jobs", json=IMAGE, headers=bearer(key))
    assert made.status_code == 202, made.text
    job_id: str = made.json()["id"]
    return job_id


class Held:
    """A raw connection holding a request open (read up to its status line), closed on demand."""

    def __init__(self, port: int, target: str, key: str, *, method: str = "GET", extra: str = "") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n{extra}\r\n"
        self.sock.sendall(head.encode())

    def status(self) -> int:
        """The status of the answer's first line (an event stream answers it at once)."""
        line = self.sock.makefile("rb").readline().decode()
        return int(line.split()[1])

    def close(self) -> None:
        self.sock.close()


def hold_stream(stack: ExitStack, port: int, job_id: str, key: str) -> Held:
    held = stack.enter_context(closing(Held(port, f"/v1/jobs/{job_id}/events", key)))
    assert held.status() == 200
    return held


def test_a_key_at_its_cap_gets_429_while_other_tenants_are_answered_promptly(
    ports: list[int], admin: httpx.Client
) -> None:
    greedy, other = make_key(admin, "greedy"), make_key(admin, "other")
    job_id = queued_job(admin, greedy)
    with ExitStack() as held, httpx.Client(timeout=30) as http:
        for port in (ports[0], ports[1], ports[0]):  # the cap counts across processes
            hold_stream(held, port, job_id, greedy)
        for port in ports:
            base = f"http://127.0.0.1:{port}"
            refused = [
                http.get(f"{base}/v1/jobs/{job_id}/events", headers=bearer(greedy)),
                http.get(f"{base}/v1/jobs/{job_id}?wait=30", headers=bearer(greedy)),
                http.post(f"{base}/v1/jobs", json=IMAGE, headers={"Prefer": "wait=30", **bearer(greedy)}),
            ]
            for answer in refused:
                assert answer.status_code == 429, answer.text
                assert answer.headers["Content-Type"] == "application/problem+json"
                assert answer.json()["code"] == "too_many_streams"
                assert int(answer.headers["Retry-After"]) >= 1
            for path, key in (("/v1/jobs", other), ("/health", None), ("/metrics", None)):
                started = time.monotonic()
                answer = http.get(f"{base}{path}", headers=bearer(key) if key else {})
                assert answer.status_code == 200, answer.text
                assert time.monotonic() - started < PROMPT_S
        listed = http.get(f"http://127.0.0.1:{ports[0]}/v1/jobs", headers=bearer(greedy)).json()
        assert [job["id"] for job in listed["jobs"]] == [job_id]  # the refused Prefer: wait made no job


def test_a_tenant_is_capped_across_its_keys(ports: list[int], admin: httpx.Client) -> None:
    first, second = make_key(admin, "one", tenant="shared"), make_key(admin, "two", tenant="shared")
    job_id = queued_job(admin, first)
    with ExitStack() as held:
        for n, key in enumerate((first, first, first, second, second)):
            hold_stream(held, ports[n % 2], job_id, key)
        answer = httpx.get(
            f"http://127.0.0.1:{ports[1]}/v1/jobs/{job_id}?wait=5", headers=bearer(second), timeout=30
        )
        assert answer.status_code == 429
        assert "tenant" in answer.json()["detail"]


@pytest.mark.parametrize("target", ["/v1/jobs/{job_id}/events", "/v1/jobs/{job_id}?wait=60"])
def test_a_client_that_leaves_frees_its_place_within_about_a_second(
    stack: Stack, ports: list[int], admin: httpx.Client, target: str
) -> None:
    made = admin.post("/v1/keys", json={"name": "leaver"}, headers=bearer(ADMIN)).json()
    key = made["key"]
    job_id = queued_job(admin, key)
    with ExitStack() as held, Redis.from_url(stack.env["LLMB_REDIS_URL"]) as client:
        for _ in range(2):
            hold_stream(held, ports[0], job_id, key)
        leaving = Held(ports[1], target.format(job_id=job_id), key)
        # A long-wait answers nothing until it ends: its place is seen in Redis. (A check that raced it
        # would take the third place itself and leave the leaver refused.)
        holds = Holds(client)
        assert _eventually(lambda: holds.count(made["id"], made["tenant"])[0] == 3)
        url = f"http://127.0.0.1:{ports[1]}/v1/jobs/{job_id}?wait=1"
        assert httpx.get(url, headers=bearer(key), timeout=30).status_code == 429
        leaving.close()
        left_at = time.monotonic()
        assert _eventually(lambda: httpx.get(url, headers=bearer(key), timeout=30).status_code == 200)
        assert time.monotonic() - left_at < 4.0  # about a second (checked every 1 s), not the 15 s keep-alive


def test_a_streamed_chat_whose_client_leaves_frees_its_place_and_cancels_its_queued_job(
    ports: list[int], admin: httpx.Client
) -> None:
    key = make_key(admin, "chatter")
    job_id = queued_job(admin, key)
    body = json.dumps({"model": "tiny-chat", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    with ExitStack() as held:
        for _ in range(2):
            hold_stream(held, ports[0], job_id, key)
        chat = Held(ports[1], "/v1/chat/completions", key, method="POST", extra=extra)
        chat.sock.sendall(body.encode())
        reader = chat.sock.makefile("rb")
        assert b" 200 " in reader.readline()
        chat_id = (
            next(line for line in reader if line.lower().startswith(b"x-job-id:")).split(b":")[1].strip()
        )
        url = f"http://127.0.0.1:{ports[1]}/v1/jobs/{job_id}?wait=1"
        assert httpx.get(url, headers=bearer(key), timeout=30).status_code == 429
        reader.close()  # the socket's file keeps it open: close both
        chat.close()
        left_at = time.monotonic()
        assert _eventually(lambda: httpx.get(url, headers=bearer(key), timeout=30).status_code == 200)
        assert time.monotonic() - left_at < 4.0
        job = admin.get(f"/v1/jobs/{chat_id.decode()}", headers=bearer(key)).json()
        assert job["status"] == "canceled"


def test_a_body_trickled_past_the_bound_gets_408_and_the_connection_ends(
    ports: list[int], admin: httpx.Client
) -> None:
    key = make_key(admin, "slow")
    body = b'{"type": "image", "input": {"prompt": "ok"}}'
    extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    slow = Held(ports[0], "/v1/jobs", key, method="POST", extra=extra)
    try:
        started = time.monotonic()
        slow.sock.settimeout(0.3)
        answer = b""
        for byte in body:  # a byte every 0.3 s: 45 bytes would take 13 s, the bound is 2 s
            try:
                slow.sock.sendall(bytes([byte]))
                answer += slow.sock.recv(65536)
                break
            except TimeoutError:
                continue
        slow.sock.settimeout(10)
        while b"\r\n\r\n" not in answer and (chunk := slow.sock.recv(65536)):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < 2 + PROMPT_S + 1
        while chunk := slow.sock.recv(65536):  # the connection ends: the rest of the body is never read
            answer += chunk
        assert b'"code": "body_timeout"' in answer or b'"code":"body_timeout"' in answer
    finally:
        slow.close()


def _eventually(check: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
