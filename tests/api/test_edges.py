"""Limits (RELIABILITY.md 18), browsers (21) and odd input at the HTTP edge, with a real Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from shared.settings import Limits
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key

IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}}


def secure_client(app_for: AppFor, **overrides: Any) -> FlaskClient:
    from pydantic import SecretStr

    return app_for(auth="on", admin_key=SecretStr(ADMIN), **overrides).test_client()


def test_the_rate_limit_answers_429_with_retry_after_and_ratelimit_fields(
    app_for: AppFor, redis_client: Redis
) -> None:
    client = secure_client(app_for)
    key = make_key(client, jobs_per_minute=3)["key"]
    accepted = [client.post("/v1/jobs", json=IMAGE, headers=bearer(key)) for _ in range(3)]
    assert [r.status_code for r in accepted] == [202] * 3
    assert accepted[0].headers["RateLimit-Policy"] == '"jobs";q=3;w=60'
    assert accepted[2].headers["RateLimit"].startswith('"jobs";r=0;t=')
    queued = redis_client.llen("image")
    refused = client.post("/v1/jobs", json=IMAGE, headers=bearer(key))
    assert (refused.status_code, refused.get_json()["code"]) == (429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Policy"] == '"jobs";q=3;w=60'
    assert redis_client.llen("image") == queued  # nothing enqueued
    other = make_key(client)["key"]
    assert client.post("/v1/jobs", json=IMAGE, headers=bearer(other)).status_code == 202  # per key


def test_the_active_job_cap_answers_429_until_a_job_ends(app_for: AppFor, redis_client: Redis) -> None:
    client = secure_client(app_for)
    key = make_key(client, max_active_jobs=2)["key"]
    first, _ = (client.post("/v1/jobs", json=IMAGE, headers=bearer(key)).get_json() for _ in range(2))
    refused = client.post("/v1/jobs", json=IMAGE, headers=bearer(key))
    assert (refused.status_code, refused.get_json()["code"]) == (429, "too_many_active_jobs")
    assert refused.headers["Retry-After"] == "1"
    assert redis_client.llen("image") == 2
    client.post(f"/v1/jobs/{first['id']}/cancel", headers=bearer(key))
    assert client.post("/v1/jobs", json=IMAGE, headers=bearer(key)).status_code == 202


def test_the_queue_cap_answers_503_for_everyone(app_for: AppFor, redis_client: Redis) -> None:
    client = app_for(limits=Limits(queue_max_waiting=2)).test_client()
    assert [client.post("/v1/jobs", json=IMAGE).status_code for _ in range(2)] == [202, 202]
    full = client.post("/v1/jobs", json=IMAGE)
    assert (full.status_code, full.get_json()["code"]) == (503, "queue_full")
    assert full.headers["Retry-After"] == "5"
    assert redis_client.llen("image") == 2
    chat = {"type": "chat", "input": {"messages": [{"role": "user", "content": "hi"}]}}
    assert client.post("/v1/jobs", json=chat).status_code == 202  # another queue has room


def test_the_tenant_waiting_cap_answers_429_to_that_tenant_only(app_for: AppFor, redis_client: Redis) -> None:
    client = secure_client(app_for, limits=Limits(tenant_max_waiting=2))
    flood, other = make_key(client, tenant="flood")["key"], make_key(client, tenant="other")["key"]
    first, _ = (client.post("/v1/jobs", json=IMAGE, headers=bearer(flood)).get_json() for _ in range(2))
    refused = client.post("/v1/jobs", json=IMAGE, headers=bearer(flood))
    assert (refused.status_code, refused.get_json()["code"]) == (429, "too_many_waiting_jobs")
    assert refused.headers["Retry-After"] == "5"
    assert "2 jobs waiting in the image queue" in refused.get_json()["detail"]
    assert redis_client.llen("image") == 2  # refused before it entered the queue
    assert client.post("/v1/jobs", json=IMAGE, headers=bearer(other)).status_code == 202  # per tenant
    chat = {"type": "chat", "input": {"messages": [{"role": "user", "content": "hi"}]}}
    assert client.post("/v1/jobs", json=chat, headers=bearer(flood)).status_code == 202  # per queue
    client.post(f"/v1/jobs/{first['id']}/cancel", headers=bearer(flood))  # leaving the queue frees a place
    assert client.post("/v1/jobs", json=IMAGE, headers=bearer(flood)).status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/v1/jobs", '{"type":"image","input":{"prompt":"x"}}', "text/plain"),
        ("/v1/jobs", "type=image", "application/x-www-form-urlencoded"),
        ("/v1/jobs", '{"type":"image","input":{"prompt":"x"}}', None),
        ("/model/generate", '{"text":"x"}', "text/plain"),
        ("/v1/keys", '{"name":"x"}', "multipart/form-data; boundary=x"),
    ],
)
def test_a_body_a_web_page_could_send_without_a_preflight_is_415(
    client: FlaskClient, redis_client: Redis, path: str, body: str, content_type: str | None
) -> None:
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.get_json()["detail"]
    assert redis_client.llen("image") == 0


def test_a_host_not_allowed_is_400_unless_links_come_from_the_public_url(app_for: AppFor) -> None:
    client = app_for().test_client()
    assert client.get("/v1/jobs", headers={"Host": "localhost:8000"}).status_code == 200
    rebound = client.get("/v1/jobs", headers={"Host": "attacker.example:8000"})
    assert (rebound.status_code, rebound.get_json()["code"]) == (400, "bad_host")
    listed = app_for(allowed_hosts="api.internal").test_client()
    assert listed.get("/v1/jobs", headers={"Host": "api.internal"}).status_code == 200
    public = app_for(public_url="https://jobs.example.com").test_client()
    assert public.get("/v1/jobs", headers={"Host": "10.0.0.7:8000"}).status_code == 200


def test_cors_is_off_unless_origins_are_listed(app_for: AppFor) -> None:
    origin = {"Origin": "https://app.example.com"}
    plain = app_for().test_client().get("/v1/jobs", headers=origin)
    assert "Access-Control-Allow-Origin" not in plain.headers
    client = app_for(cors_origins="https://app.example.com").test_client()
    allowed = client.get("/v1/jobs", headers=origin)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = client.get("/v1/jobs", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


CHAT = {"messages": [{"role": "user", "content": "hi"}]}
TEXT_FIELDS = [
    ({"type": "image", "input": {"prompt": "BAD"}}, "input.prompt"),
    ({"type": "image", "input": {"prompt": "ok", "negative_prompt": "BAD"}}, "input.negative_prompt"),
    (
        {"type": "chat", "input": {"messages": [{"role": "user", "content": "BAD"}]}},
        "input.messages.0.content",
    ),
    ({"type": "chat", "input": {**CHAT, "stop": "BAD"}}, "input.stop"),
    ({"type": "chat", "input": {**CHAT, "stop": ["ok", "BAD"]}}, "input.stop.1"),
    ({"type": "embed", "input": {"input": "BAD"}}, "input.input"),
    ({"type": "embed", "input": {"input": ["ok", "BAD"]}}, "input.input.1"),
]


@pytest.mark.parametrize("bad", ["a\\u0000b", "a\\u001b]0;owned\\u0007", "\\u007f", "a\\ud800b"])
@pytest.mark.parametrize(("body", "field"), TEXT_FIELDS)
def test_control_characters_and_lone_surrogates_are_422_naming_the_field(
    client: FlaskClient, redis_client: Redis, body: dict[str, Any], field: str, bad: str
) -> None:
    raw = json.dumps(body).replace("BAD", bad)  # `bad` is JSON escape text, e.g. a\u0000b
    response = client.post("/v1/jobs", data=raw, content_type="application/json")
    assert response.status_code == 422, response.get_json()
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert redis_client.llen(body["type"]) == 0


def test_tabs_newlines_and_other_scripts_are_fine(client: FlaskClient) -> None:
    body = {"type": "image", "input": {"prompt": "a fox\tin snow\r\nカワウソ 🦊"}}
    assert client.post("/v1/jobs", json=body).status_code == 202


def test_a_key_name_with_a_control_character_is_422(app_for: AppFor) -> None:
    client = secure_client(app_for)
    response = client.post(
        "/v1/keys", data='{"name":"a\\u0000b"}', content_type="application/json", headers=bearer(ADMIN)
    )
    assert (response.status_code, response.get_json()["errors"][0]["field"]) == (422, "name")
