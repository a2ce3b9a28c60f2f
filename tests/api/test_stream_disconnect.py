"""Issue 18 item 12: a streaming OpenAI client that leaves while its job is queued cancels it at once.

The API runs under gunicorn (the disconnect is seen on its socket) with no worker, so the job stays
queued for as long as the test needs; the client reads the first chunk, then closes its connection.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from api.events import KEEPALIVE_S
from devtools.stack.deployment import Stack
from devtools.stack.process import Service
from tests.fixtures.stacks import discard

BODY = {"model": "tiny-chat", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    stack = Stack(tmp_path_factory.mktemp("disconnect"))
    try:
        stack.start_redis()
        yield stack.start_api(env={"LLMB_AUTH": "off"})
    finally:
        discard(stack)


def _open_stream(port: int) -> tuple[socket.socket, str]:
    """A streamed chat on a raw connection: the connection, once the first chunk came, and the job id."""
    body = json.dumps(BODY).encode()
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    conn.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    seen = b""
    while b"chat.completion.chunk" not in seen:
        seen += conn.recv(65536)
    status, *headers = seen.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert status.startswith("HTTP/1.1 200"), seen
    job_id = next(h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("x-job-id:"))
    return conn, job_id


def test_a_client_that_leaves_a_queued_job_s_stream_cancels_it_within_seconds(api: Service) -> None:
    conn, job_id = _open_stream(api.port)
    with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=30) as http:
        assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"  # no worker: it stays so
        conn.close()
        left = time.monotonic()
        status = "queued"
        while status == "queued" and time.monotonic() - left < KEEPALIVE_S:
            status = http.get(f"/v1/jobs/{job_id}", params={"wait": 1}).json()["status"]
        took = time.monotonic() - left
    assert status == "canceled"
    # Before, it was canceled only when the next keep-alive (15 s) failed to write; now within about
    # a second (the check's period), with room for a loaded machine.
    assert took < KEEPALIVE_S / 2, took
