"""What a delivery carries: its ids, its envelope, the base of its links, signatures the verifier accepts."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from shared.settings import load_settings
from shared.store.webhooks import new_secret
from shared.webhook import WebhookEvent
from tests.fixtures.jobs import new_record
from webhooks.message import payload, public_base, signed_headers, webhook_id


@pytest.mark.parametrize(
    ("overrides", "base"),
    [
        ({"public_url": "https://llmb.example.com/"}, "https://llmb.example.com"),
        ({"api_bind": "127.0.0.1:8000"}, "http://127.0.0.1:8000"),
        ({"api_bind": "0.0.0.0:8080"}, "http://localhost:8080"),
        ({"api_bind": "[::]:8000"}, "http://localhost:8000"),
        ({"api_bind": "unix:/run/llmb.sock"}, "http://localhost"),
    ],
)
def test_links_come_from_the_public_url_else_from_the_api_s_bind(
    overrides: dict[str, str], base: str
) -> None:
    assert public_base(load_settings(**overrides)) == base


def test_ids_stay_for_started_and_completed_and_are_fresh_for_each_progress() -> None:
    assert webhook_id("j", WebhookEvent.COMPLETED, now=1) == webhook_id("j", WebhookEvent.COMPLETED, now=2)
    assert webhook_id("j", WebhookEvent.STARTED, now=1) == "msg_j_started"
    assert webhook_id("j", WebhookEvent.PROGRESS, now=1.0) != webhook_id("j", WebhookEvent.PROGRESS, now=1.5)


def test_the_body_is_the_job_in_an_envelope_signed_so_the_verifier_accepts_it_and_nothing_else() -> None:
    record, secret, now = new_record(), new_secret(), time.time()
    body = payload(record, WebhookEvent.COMPLETED, base="http://api.test", now=now)
    headers = signed_headers([secret], msg_id="msg_x", at=int(now), body=body)
    sent = Webhook(secret).verify(body, headers)
    assert (sent["type"], sent["data"]["id"], sent["data"]["links"]["self"]) == (
        "job.completed",
        record.id,
        f"http://api.test/v1/jobs/{record.id}",
    )
    assert json.loads(body)["timestamp"].endswith("Z")
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("job.completed", "job.started"), headers)
