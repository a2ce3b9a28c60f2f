"""GET /v1/usage: hourly totals summed by tenant, key or type; a key sees its tenant's, admin all."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr
from redis import Redis

from shared.job_record import JobType
from shared.store import JobStore
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key

IMAGE = {"type": "image", "input": {"prompt": "a fox", "width": 64, "height": 64, "steps": 2}}
USED = {"images": 1, "pixel_steps": 8192, "device_s": 0.5}


@pytest.fixture
def client(app_for: AppFor) -> FlaskClient:
    return app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()


def run_one(client: FlaskClient, redis_client: Redis, key: str) -> None:
    """Submit an image job with `key` and end it as a worker would, with its usage."""
    job = client.post("/v1/jobs", json=IMAGE, headers=bearer(key)).get_json()
    store = JobStore(redis_client, job_ttl_s=3600)
    assert store.start(job["id"], JobType.IMAGE, holder="w", lease_until=time.time() + 30)
    assert store.succeed(job["id"], JobType.IMAGE, holder="w", result={}, usage=USED).ok


def usage(client: FlaskClient, key: str, **params: str) -> dict[str, Any]:
    answer = client.get("/v1/usage", query_string=params, headers=bearer(key))
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def test_a_key_sees_its_tenant_s_usage_by_key_and_admin_sees_everyone_s(
    client: FlaskClient, redis_client: Redis
) -> None:
    a1, a2 = make_key(client, tenant="a"), make_key(client, tenant="a")
    b = make_key(client, tenant="b")
    for key in (a1, a1, a2, b):
        run_one(client, redis_client, key["key"])
    by_key = usage(client, a1["key"], group_by="key")["groups"]
    assert {(g["tenant"], g["key_id"], g["jobs"], g["images"]) for g in by_key} == {
        ("a", a1["id"], 2, 2),
        ("a", a2["id"], 1, 1),
    }
    assert usage(client, b["key"])["groups"] == [
        {"tenant": "b", "key_id": None, "type": None, "jobs": 1, "device_s": 0.5, "prompt_tokens": 0,
         "completion_tokens": 0, "images": 1, "pixel_steps": 8192}
    ]  # fmt: skip
    everyone = usage(client, ADMIN)["groups"]
    assert [(g["tenant"], g["jobs"], g["device_s"]) for g in everyone] == [("a", 3, 1.5), ("b", 1, 0.5)]
    assert usage(client, ADMIN, tenant="b")["groups"][0]["tenant"] == "b"
    assert usage(client, a1["key"], tenant="b")["groups"][0]["tenant"] == "a"  # only admin picks
    by_type = usage(client, ADMIN, group_by="type")["groups"]
    assert [(g["type"], g["jobs"], g["pixel_steps"]) for g in by_type] == [("image", 4, 4 * 8192)]


def test_the_range_is_whole_hours_and_an_earlier_range_holds_nothing(
    client: FlaskClient, redis_client: Redis
) -> None:
    key = make_key(client)["key"]
    run_one(client, redis_client, key)
    report = usage(client, key, **{"from": "2026-01-01", "to": "2026-01-01T01:30:00Z"})
    assert (report["from"], report["to"], report["groups"]) == (
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T02:00:00.000Z",
        [],
    )
    assert usage(client, key)["groups"][0]["jobs"] == 1  # the last 24 hours by default


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "color"}, "group_by"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-01-02", "to": "2026-01-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
    ],
)
def test_a_bad_query_is_422_naming_the_field(client: FlaskClient, params: dict[str, str], field: str) -> None:
    answer = client.get("/v1/usage", query_string=params, headers=bearer(ADMIN))
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"
    assert answer.get_json()["errors"][0]["field"] == field


def test_usage_needs_a_key(client: FlaskClient) -> None:
    assert client.get("/v1/usage").status_code == 401


def test_metrics_count_usage_by_type_and_by_tenant_only_when_asked(
    app_for: AppFor, redis_client: Redis
) -> None:
    from tests.api.test_metrics import sample

    plain = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    keys = [make_key(plain, tenant=t)["key"] for t in ("a", "b", "b", "c")]
    for key in keys:
        run_one(plain, redis_client, key)
    assert sample(plain, "llmb_usage_jobs_total", type="image") == 4
    assert sample(plain, "llmb_usage_device_seconds_total", type="image") == 2.0
    assert sample(plain, "llmb_usage_pixel_steps_total", type="image") == 4 * 8192
    assert sample(plain, "llmb_usage_device_seconds_total", type="image", tenant="a") == 0  # no label
    bounded = app_for(auth="on", admin_key=SecretStr(ADMIN), metrics_tenants=1).test_client()
    assert sample(bounded, "llmb_usage_device_seconds_total", type="image", tenant="b") == 1.0  # the top one
    assert sample(bounded, "llmb_usage_images_total", type="image", tenant="other") == 2  # a and c
    assert sample(bounded, "llmb_usage_images_total", type="image", tenant="a") == 0
