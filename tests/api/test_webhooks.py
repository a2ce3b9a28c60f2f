"""Webhooks at the API: where a job may send them (checked at submit), its attempts, the tenant's secret."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from pydantic import SecretStr
from redis import Redis
from standardwebhooks import Webhook

from shared.store.webhooks import WebhookStore
from shared.webhook import Attempt, Outcome, WebhookEvent, delivery
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key

IMAGE_INPUT = {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}


def with_webhook(url: str, events: list[str] | None = None) -> dict[str, Any]:
    """A job create body whose webhook calls `url`."""
    webhook: dict[str, Any] = {"url": url} if events is None else {"url": url, "events": events}
    return {"type": "image", "input": IMAGE_INPUT, "webhook": webhook}


def resolving_to(*addresses: str) -> Any:
    """A resolver that maps every host name to `addresses` (numeric hosts too)."""
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "https://user:pass@hooks.example.com/",
        "ftp://hooks.example.com/",
        "http://hooks.example.com:70000/",
    ],
)
def test_an_internal_or_malformed_webhook_url_is_refused_at_submit(app: Flask, url: str) -> None:
    response = app.test_client().post("/v1/jobs", json=with_webhook(url))
    assert response.status_code == 422, response.get_json()
    assert "webhook.url" in [e["field"] for e in response.get_json()["errors"]]


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["::1"],
        ["10.1.2.3", "192.168.0.9"],
        ["fd00:ec2::254"],
        ["100.64.0.1"],
        ["::ffff:10.0.0.1"],
    ],
)
def test_a_host_name_that_resolves_only_to_internal_addresses_is_refused(
    app: Flask, addresses: list[str]
) -> None:
    app.extensions["llmb"].resolve = resolving_to(*addresses)
    response = app.test_client().post("/v1/jobs", json=with_webhook("https://hooks.example.com/in"))
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == "webhook.url"
    assert "public address" in error["message"]


def test_a_public_host_is_accepted_and_the_allow_setting_opens_chosen_networks(app_for: AppFor) -> None:
    app = app_for()
    app.extensions["llmb"].resolve = resolving_to("93.184.216.34")
    created = app.test_client().post(
        "/v1/jobs", json=with_webhook("https://hooks.example.com/in", ["started"])
    )
    assert created.status_code == 202, created.get_json()
    assert created.get_json()["webhook"] == {"url": "https://hooks.example.com/in", "events": ["started"]}
    opened = app_for(webhook_allow_nets="127.0.0.0/8").test_client()
    for url in ("http://127.0.0.1:9/hook", "http://127.0.0.1:54321/hook"):
        assert opened.post("/v1/jobs", json=with_webhook(url)).status_code == 202


def test_a_job_s_attempts_are_listed_oldest_first_and_hidden_from_other_tenants(
    app_for: AppFor, redis_client: Redis
) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN), webhook_allow_nets="127.0.0.0/8")
    client = app.test_client()
    mine, theirs = make_key(client, tenant="team-a")["key"], make_key(client, tenant="team-b")["key"]
    job = client.post("/v1/jobs", json=with_webhook("http://127.0.0.1:9/"), headers=bearer(mine)).get_json()
    path = f"/v1/jobs/{job['id']}/webhooks"
    assert client.get(path, headers=bearer(mine)).get_json() == {"attempts": []}
    record_attempts(redis_client, job["id"])

    listed = client.get(path, headers=bearer(mine)).get_json()["attempts"]
    assert [(a["status_code"], a["error"], a["outcome"]) for a in listed] == [
        (500, None, "retrying"),
        (None, "timed out: read", "retrying"),
        (200, None, "delivered"),
    ]
    assert listed[0]["next_attempt_at"].endswith("Z")
    assert listed[2]["next_attempt_at"] is None
    assert listed[0]["webhook_id"] == f"msg_{job['id']}_completed"
    other = client.get(path, headers=bearer(theirs))
    unknown = client.get("/v1/jobs/no-such-job/webhooks", headers=bearer(theirs))
    assert other.status_code == unknown.status_code == 404
    assert other.get_json()["detail"] == f"no job {job['id']}"


def record_attempts(redis_client: Redis, job_id: str) -> None:
    """Three attempts at the job's `completed`, as a sender records them."""
    store = WebhookStore(redis_client, job_ttl_s=60)
    member, now = delivery(job_id, WebhookEvent.COMPLETED), time.time()
    for at, code, error, outcome in [
        (now, 500, None, Outcome.RETRYING),
        (now + 5, None, "timed out: read", Outcome.RETRYING),
        (now + 15, 200, None, Outcome.DELIVERED),
    ]:
        next_at = at + 5 if outcome == Outcome.RETRYING else None
        attempt = Attempt(
            at=at,
            event=WebhookEvent.COMPLETED,
            webhook_id=f"msg_{job_id}_completed",
            outcome=outcome,
            status_code=code,
            error=error,
            next_at=next_at,
        )
        store.settle(member, lease=0, attempt=attempt, next_at=next_at)


def test_each_tenant_has_its_own_secret_and_rotating_keeps_the_old_one_signing_a_day(app_for: AppFor) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    a, b = make_key(client, tenant="team-a")["key"], make_key(client, tenant="team-b")["key"]
    first = client.get("/v1/webhooks/secret", headers=bearer(a))
    assert first.headers["Cache-Control"] == "no-store"
    secret = first.get_json()
    assert secret["secret"].startswith("whsec_")
    assert secret["previous_valid_until"] is None
    Webhook(secret["secret"])  # the package reads it as a Standard Webhooks secret
    assert client.get("/v1/webhooks/secret", headers=bearer(a)).get_json() == secret  # made once
    assert client.get("/v1/webhooks/secret", headers=bearer(b)).get_json()["secret"] != secret["secret"]

    rotated = client.post("/v1/webhooks/secret/rotate", headers=bearer(a)).get_json()
    assert rotated["secret"] not in (secret["secret"], None)
    assert rotated["previous_valid_until"] is not None
    assert client.get("/v1/webhooks/secret", headers=bearer(a)).get_json()["secret"] == rotated["secret"]


def test_reading_the_secret_needs_jobs_read_and_rotating_it_jobs_write(app_for: AppFor) -> None:
    client = app_for(auth="on", admin_key=SecretStr(ADMIN)).test_client()
    reader = make_key(client, tenant="t", scopes=["jobs:read"])["key"]
    writer = make_key(client, tenant="t", scopes=["jobs:write"])["key"]
    assert client.get("/v1/webhooks/secret", headers=bearer(reader)).status_code == 200
    assert client.post("/v1/webhooks/secret/rotate", headers=bearer(reader)).status_code == 403
    assert client.get("/v1/webhooks/secret", headers=bearer(writer)).status_code == 403
    assert client.post("/v1/webhooks/secret/rotate", headers=bearer(writer)).status_code == 200
