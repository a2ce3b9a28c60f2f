"""budget.threshold through the sender (a real Redis and receiver), signed with the admin tenant's secret."""

from __future__ import annotations

import json
import time

import httpx
from redis import Redis
from standardwebhooks import Webhook

from shared.budgets import period_id
from shared.settings import Settings
from shared.store import JobStore
from shared.store.batches import BatchStore
from shared.store.webhooks import WebhookStore
from shared.webhook import Outcome
from tests.fixtures.receiver import Receiver
from tests.shared.test_budget_alerts import end_job
from tests.webhooks.conftest import try_next
from webhooks.notices import OPERATOR, Notices
from webhooks.sender import Sender


def sender(jobs: JobStore, redis: Redis, settings: Settings, http: httpx.Client, url: str | None) -> Sender:
    """A sender that also delivers batch ends and budget alerts (these to `url`)."""
    deliveries = WebhookStore(redis, job_ttl_s=settings.job_ttl_s)
    return Sender(jobs, deliveries, settings, http, notices=Notices(BatchStore(redis), jobs, url))


def test_a_budget_alert_goes_to_the_operator_s_url_signed_in_openai_s_event_shape(
    jobs: JobStore,
    deliveries: WebhookStore,
    redis_client: Redis,
    hook_settings: Settings,
    http: httpx.Client,
) -> None:
    end_job(jobs, {"device_s": 9.0})
    day = period_id("day", time.time())
    with Receiver() as receiver:
        made = try_next(sender(jobs, redis_client, hook_settings, http, receiver.url), deliveries)
        (received,) = receiver.wait_for(1)
    assert made is not None
    assert made.outcome == Outcome.DELIVERED
    event = Webhook(deliveries.secret(OPERATOR).current).verify(received.body, received.headers)
    assert event == json.loads(received.body)
    assert (event["object"], event["type"]) == ("event", "budget.threshold")
    assert event["id"] == received.headers["webhook-id"] == f"evt_budget_{day}_key_k1"
    data = event["data"]
    assert (data["scope"], data["name"], data["measure"], data["period_id"]) == ("key", "k1", "device_s", day)
    assert (data["spent"], data["limit"], data["threshold"]) == (9.0, 10, 0.8)
    assert deliveries.next_due() is None  # delivered: done
    assert [a.event.value for a in deliveries.attempts_at(f"llmb:spend:{day}:key:k1:webhooks")] == [
        "budget.threshold"
    ]


def test_without_an_alert_url_the_alert_is_only_logged_and_counted(
    jobs: JobStore,
    deliveries: WebhookStore,
    redis_client: Redis,
    hook_settings: Settings,
    http: httpx.Client,
) -> None:
    end_job(jobs, {"device_s": 9.0})
    assert deliveries.next_due() is not None
    assert try_next(sender(jobs, redis_client, hook_settings, http, None), deliveries) is None  # dropped
    assert deliveries.next_due() is None
