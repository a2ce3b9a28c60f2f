"""Keys, tenants and limits with two real API processes (gunicorn) sharing one Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.stack.deployment import Stack
from shared.redis_conn import connect
from tests.integration.conftest import bearer

ADMIN = "integration-admin-key"
SECURE = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}
IMAGE = {"type": "image", "input": {"prompt": "ok", "width": 64, "height": 64, "steps": 1}}


@pytest.fixture
def two_apis(stack: Stack) -> Iterator[list[httpx.Client]]:
    """Two API processes (each gunicorn with one worker) on the same Redis, with auth on."""
    clients = [
        httpx.Client(base_url=f"http://127.0.0.1:{stack.start_api(env=SECURE).port}", timeout=30)
        for _ in range(2)
    ]
    yield clients
    for client in clients:
        client.close()


def make_key(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/keys", json={"name": "tester", **body}, headers=bearer(ADMIN))
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def test_a_revoked_key_is_refused_by_the_other_process_within_a_second(two_apis: list[httpx.Client]) -> None:
    one, other = two_apis
    key = make_key(one)
    assert other.get("/v1/jobs", headers=bearer(key["key"])).status_code == 200
    assert one.delete(f"/v1/keys/{key['id']}", headers=bearer(ADMIN)).status_code == 200
    revoked_at = time.monotonic()
    while (answer := other.get("/v1/jobs", headers=bearer(key["key"]))).status_code == 200:
        assert time.monotonic() - revoked_at < 1.0, "the other process still accepts the key after 1 s"
        time.sleep(0.05)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_rate_limit_holds_in_total_across_processes(two_apis: list[httpx.Client], stack: Stack) -> None:
    key = make_key(two_apis[0], jobs_per_minute=10)["key"]
    codes = [two_apis[i % 2].post("/v1/jobs", json=IMAGE, headers=bearer(key)).status_code for i in range(20)]
    assert codes.count(202) == 10
    assert set(codes[10:]) == {429}
    assert connect(stack.env["LLMB_REDIS_URL"]).llen("image") == 10


def test_the_active_job_cap_holds_in_total_across_processes(two_apis: list[httpx.Client]) -> None:
    key = make_key(two_apis[0], max_active_jobs=3)["key"]
    answers = [two_apis[i % 2].post("/v1/jobs", json=IMAGE, headers=bearer(key)) for i in range(6)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429, 429]
    assert answers[3].json()["code"] == "too_many_active_jobs"


def chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"image","input":{"prompt":"' + b"x" * 1_600_000 + b'"}}',  # 1.6 MB of JSON
        b'{"type":"image","input":{"prompt":"ok"}}'
        + b" " * (2 * 1024 * 1024),  # valid JSON, then 2 MiB of spaces
    ],
)
def test_a_body_over_the_cap_is_413_however_it_is_framed(stack: Stack, body: bytes) -> None:
    api = httpx.Client(base_url=f"http://127.0.0.1:{stack.start_api().port}", timeout=30)
    try:
        json_type = {"Content-Type": "application/json"}
        chunked = api.post("/v1/jobs", content=chunks(body), headers=json_type)  # no Content-Length
        assert chunked.request.headers.get("Transfer-Encoding") == "chunked"
        sized = api.post("/v1/jobs", content=body, headers=json_type)
        assert (chunked.status_code, sized.status_code) == (413, 413)
        assert chunked.headers["content-type"] == "application/problem+json"
        small = api.post(
            "/v1/jobs", content=chunks(b'{"type":"image","input":{"prompt":"ok"}}'), headers=json_type
        )
        assert small.status_code == 202  # a chunked body under the cap is read whole
    finally:
        api.close()
    assert connect(stack.env["LLMB_REDIS_URL"]).llen("image") == 1


def test_no_secret_lands_in_redis_or_the_logs(two_apis: list[httpx.Client], stack: Stack) -> None:
    key = make_key(two_apis[0])["key"]
    secret = key[len("llmb_") + 13 :]
    two_apis[1].post("/v1/jobs", json=IMAGE, headers=bearer(key))
    two_apis[1].get("/v1/jobs", headers=bearer(key[:-3] + "abc"))  # a refused key is logged by id only
    redis = connect(stack.env["LLMB_REDIS_URL"])
    for name in redis.scan_iter("*"):
        kind = redis.type(name).decode()
        dump = repr(redis.hgetall(name) if kind == "hash" else redis.dump(name))
        assert secret not in dump, name
        assert ADMIN not in dump, name
    logs = "".join(svc.log() for svc in stack.services)
    assert f"key={key[5:17]}" in logs  # requests are logged with the key's id
    assert secret not in logs
    assert ADMIN not in logs
