"""The 80 % alert through the API: a submitted job carries its key's and tenant's caps, and its end's
alert shows in /metrics (llmb_budget_alerts_total) and as the key's spend `alerted_at`."""

from __future__ import annotations

import time

from flask import Flask
from pydantic import SecretStr

from shared.job_record import JobType
from shared.limits import Limits
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key, submit
from tests.api.test_metrics import sample
from webhooks.notices import OPERATOR


def test_a_job_s_end_past_80_percent_of_its_key_s_budget_is_counted_and_shown(app_for: AppFor) -> None:
    app: Flask = app_for(auth="on", admin_key=SecretStr(ADMIN), limits=Limits(tenant_budget_tokens=500))
    client = app.test_client()
    made = make_key(client, budget={"device_s": 10, "period": "day"})
    alerts = {"scope": "key", "measure": "device_s"}
    assert sample(client, "llmb_budget_alerts_total", **alerts) == 0  # the series exists from the start
    job_id = submit(client, made["key"])["id"]
    store = app.extensions["llmb"].store
    assert store.get(job_id).budgets == {
        "alert_at": 0.8,
        "key": {"device_s": 10, "period": "day"},
        "tenant": {"tokens": 500, "period": "month"},
    }
    key = client.get(f"/v1/keys/{made['id']}", headers=bearer(ADMIN)).get_json()
    assert key["spend"]["alerted_at"] is None
    assert store.start(job_id, JobType.IMAGE, holder="w", lease_until=time.time() + 30) is not None
    assert store.succeed(job_id, JobType.IMAGE, holder="w", result={}, usage={"device_s": 8.0}).ok
    assert sample(client, "llmb_budget_alerts_total", **alerts) == 1
    assert sample(client, "llmb_budget_alerts_total", scope="tenant", measure="tokens") == 0
    key = client.get(f"/v1/keys/{made['id']}", headers=bearer(ADMIN)).get_json()
    assert key["spend"]["alerted_at"] is not None
    assert key["spend"]["device_s"] == 8.0


def test_the_admin_key_reads_the_secret_that_signs_budget_alerts(app_for: AppFor) -> None:
    app: Flask = app_for(auth="on", admin_key=SecretStr(ADMIN))
    answer = app.test_client().get("/v1/webhooks/secret", headers=bearer(ADMIN))
    assert answer.status_code == 200
    assert answer.get_json()["secret"] == app.extensions["llmb"].webhooks.secret(OPERATOR).current
