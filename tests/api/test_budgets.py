"""Budgets: a key or tenant past its budget for the period is refused at submit; a key shows its spend."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr
from redis import Redis

from shared.budgets import period_end, period_id
from shared.job_record import JobType
from shared.settings import Limits
from shared.store import JobStore
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key

IMAGE = {"type": "image", "input": {"prompt": "a fox", "width": 64, "height": 64, "steps": 1}}
CHAT = {"model": "tiny-chat", "messages": [{"role": "user", "content": "hi"}]}


def end_one(client: FlaskClient, redis_client: Redis, key: str, usage: dict[str, float]) -> None:
    """Submit a job with `key` and end it as a worker would, with `usage`."""
    answer = client.post("/v1/jobs", json=IMAGE, headers=bearer(key))
    assert answer.status_code == 202, answer.get_json()
    store, job_id = JobStore(redis_client, job_ttl_s=3600), answer.get_json()["id"]
    assert store.start(job_id, JobType.IMAGE, holder="w", lease_until=time.time() + 30)
    assert store.succeed(job_id, JobType.IMAGE, holder="w", result={}, usage=usage).ok


def test_a_key_past_its_daily_budget_is_refused_until_the_day_ends(
    app_for: AppFor, redis_client: Redis
) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    key = make_key(client, budget={"device_s": 1.5, "period": "day"})
    end_one(client, redis_client, key["key"], {"device_s": 1.0})
    end_one(client, redis_client, key["key"], {"device_s": 1.0})  # under the budget when it started
    refused = client.post("/v1/jobs", json=IMAGE, headers=bearer(key["key"]))
    assert (refused.status_code, refused.get_json()["code"]) == (429, "budget_exceeded")
    assert refused.content_type == "application/problem+json"
    assert "2.0 of 1.5 device seconds" in refused.get_json()["detail"]
    until_midnight = period_end("day", time.time()) - time.time()
    assert abs(int(refused.headers["Retry-After"]) - until_midnight) <= 5
    openai = client.post("/v1/chat/completions", json=CHAT, headers=bearer(key["key"]))
    assert (openai.status_code, openai.get_json()["error"]["code"]) == (429, "budget_exceeded")
    shown = client.get(f"/v1/keys/{key['id']}", headers=bearer(ADMIN)).get_json()
    assert shown["budget"] == {"device_s": 1.5, "tokens": None, "period": "day"}
    assert (shown["spend"]["period"], shown["spend"]["device_s"]) == ("day", 2.0)
    other = make_key(client, tenant=key["tenant"])  # the tenant has no budget: its other keys go on
    assert client.post("/v1/jobs", json=IMAGE, headers=bearer(other["key"])).status_code == 202


def test_a_tenant_budget_from_the_settings_holds_across_its_keys(
    app_for: AppFor, redis_client: Redis
) -> None:
    limits = Limits(tenant_budget_tokens=10, tenant_budget_period="month")
    client = app_for(auth="on", admin_key=SecretStr(ADMIN), limits=limits).test_client()
    first, second = make_key(client, tenant="t"), make_key(client, tenant="t")
    end_one(client, redis_client, first["key"], {"prompt_tokens": 6, "completion_tokens": 4, "device_s": 0.1})
    refused = client.post("/v1/jobs", json=IMAGE, headers=bearer(second["key"]))
    assert (refused.status_code, refused.get_json()["code"]) == (429, "budget_exceeded")
    assert "this tenant used its month's budget (10 of 10 tokens)" in refused.get_json()["detail"]
    assert client.post("/v1/jobs", json=IMAGE, headers=bearer(make_key(client)["key"])).status_code == 202
    shown = client.get(f"/v1/keys/{first['id']}", headers=bearer(ADMIN)).get_json()
    assert (shown["budget"], shown["spend"]["tokens"]) == (None, 10)


@pytest.mark.parametrize(
    ("at", "period", "name", "end"),
    [
        ("2026-12-31T23:59:59", "day", "d20261231", "2027-01-01T00:00:00"),
        ("2026-12-31T23:59:59", "month", "m202612", "2027-01-01T00:00:00"),
        ("2026-02-10T08:00:00", "month", "m202602", "2026-03-01T00:00:00"),
    ],
)
def test_periods_are_utc_days_and_months(at: str, period: str, name: str, end: str) -> None:
    now = datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
    assert period_id(period, now) == name  # type: ignore[arg-type]
    assert period_end(period, now) == datetime.fromisoformat(end).replace(tzinfo=UTC).timestamp()  # type: ignore[arg-type]


def test_a_budget_must_be_positive(app_for: AppFor) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    answer = client.post("/v1/keys", json={"name": "x", "budget": {"tokens": 0}}, headers=bearer(ADMIN))
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "budget.tokens"
