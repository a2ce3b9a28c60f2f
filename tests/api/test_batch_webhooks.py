"""A batch's webhook (an extension of POST /v1/batches): checked as a job's is, stored with the batch."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from shared.limits import Limits
from shared.store.batches import BatchStore
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key
from tests.api.test_batch_runner import embed_line, runner_for, start
from tests.api.test_files import LINE, secure, upload
from tests.api.test_webhooks import resolving_to

__all__ = ["secure"]  # the fixture, shared with test_files
PUBLIC_ADDRESS = "93.184.216.34"
ALL_ENDS = ["batch.completed", "batch.failed", "batch.expired", "batch.cancelled"]


def create(app: Flask, webhook: Any) -> tuple[FlaskClient, str, Any]:
    """POST /v1/batches with `webhook`; (client, key, the answer)."""
    app.extensions["llmb"].resolve = resolving_to(PUBLIC_ADDRESS)
    client = app.test_client()
    key = make_key(client)["key"]
    file_id = upload(client, key, LINE).get_json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/embeddings", "completion_window": "24h"}
    return client, key, client.post("/v1/batches", json={**body, "webhook": webhook}, headers=bearer(key))


def stored(app: Flask, batch_id: str) -> dict[str, Any] | None:
    record, _ = BatchStore.on(app.extensions["llmb"].pool).load(batch_id)
    return record.webhook


def test_a_batch_webhook_is_stored_with_every_end_by_default_and_the_batch_object_is_unchanged(
    secure: Flask,
) -> None:
    _, _, made = create(secure, {"url": "https://hooks.example.com/llmb"})
    assert made.status_code == 200, made.get_json()
    batch = made.get_json()
    assert "webhook" not in batch  # OpenAI's batch object, as before
    assert stored(secure, batch["id"]) == {"url": "https://hooks.example.com/llmb", "events": ALL_ENDS}
    _, _, chosen = create(secure, {"url": "https://hooks.example.com/x", "events": ["batch.cancelled"]})
    assert stored(secure, chosen.get_json()["id"]) == {
        "url": "https://hooks.example.com/x",
        "events": ["batch.cancelled"],
    }


@pytest.mark.parametrize(
    ("webhook", "param"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "webhook.url"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "webhook.url"),
        ({"events": ["batch.completed"]}, "webhook.url"),
        ({"url": "https://hooks.example.com/x", "events": ["completed"]}, "webhook.events.0"),
        ({"url": "https://hooks.example.com/x", "events": []}, "webhook.events"),
        ({"url": "https://hooks.example.com/x", "secret": "s"}, "webhook.secret"),
        ("https://hooks.example.com/x", "webhook"),
    ],
)
def test_a_bad_batch_webhook_is_refused_with_422_naming_its_field(
    secure: Flask, webhook: Any, param: str
) -> None:
    client, key, refused = create(secure, webhook)
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert client.get("/v1/batches", headers=bearer(key)).get_json()["data"] == []  # none was made


def test_a_batch_webhook_to_an_internal_address_is_refused_as_a_job_s_is(secure: Flask) -> None:
    secure.extensions["llmb"].resolve = resolving_to("10.0.0.1")
    client = secure.test_client()
    key = make_key(client)["key"]
    file_id = upload(client, key, LINE).get_json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/embeddings", "completion_window": "24h"}
    refused = client.post(
        "/v1/batches", json={**body, "webhook": {"url": "https://hooks.example.com/x"}}, headers=bearer(key)
    )
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["param"] == "webhook.url"
    assert "10.0.0.1" not in error["message"]  # the refusal never names what the host resolved to


def test_a_batch_s_lines_count_against_its_key_s_and_tenant_s_budgets(app_for: AppFor) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN), limits=Limits(tenant_budget_device_s=100))
    _, batch_id = start(app, embed_line(0), budget={"tokens": 1000, "period": "day"})
    runner_for(app).step(batch_id)
    store = app.extensions["llmb"].store
    (entry,) = BatchStore.on(app.extensions["llmb"].pool).lines(batch_id, 0, 10)
    assert store.get(entry[2:]).budgets == {
        "alert_at": 0.8,
        "key": {"tokens": 1000, "period": "day"},
        "tenant": {"device_s": 100, "period": "month"},
    }
