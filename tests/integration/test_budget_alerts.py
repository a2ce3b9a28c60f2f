"""The 80 % budget alert through real processes: gunicorn, a Celery worker whose job ends add the spend,
the webhook sender posting budget.threshold to LLMB_BUDGET_ALERT_WEBHOOK, a real receiver."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks import Webhook

from devtools.stack.deployment import Stack
from tests.fixtures.receiver import Receiver
from tests.integration.conftest import SCRIPTED, bearer, finished_with
from tests.integration.test_usage import ADMIN
from tests.integration.test_webhooks import HOOKS


def alerts_counted(api: httpx.Client) -> float:
    text = api.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "llmb_budget_alerts_total" and sample.labels == {
                "scope": "key",
                "measure": "device_s",
            }:
                return float(sample.value)
    raise AssertionError("no llmb_budget_alerts_total{scope=key,measure=device_s}")


def test_two_jobs_past_80_percent_of_a_key_s_budget_alert_once(stack: Stack, tmp_path: Path) -> None:
    release = tmp_path / "release"
    with Receiver() as receiver:
        stack.env.update(
            {**HOOKS, "LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN, "LLMB_BUDGET_ALERT_WEBHOOK": receiver.url}
        )
        port = stack.start_api().port
        worker = stack.start_worker(env={**SCRIPTED, "LLMB_BATCH_MAX": "1"})
        stack.start_webhooks()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as api:
            budget = {"device_s": 0.001, "period": "day"}  # work:0.05 alone passes 80 % of it
            key = api.post(
                "/v1/keys", json={"name": "spender", "budget": budget}, headers=bearer(ADMIN)
            ).json()
            assert alerts_counted(api) == 0
            ids = []
            for prompt in (f"hold:{release}", "work:0.05"):  # both accepted before either ends
                body = {"type": "image", "input": {"prompt": prompt, "width": 64, "height": 64, "steps": 1}}
                answer = api.post("/v1/jobs", json=body, headers=bearer(key["key"]))
                assert answer.status_code == 202, answer.text
                ids.append(answer.json()["id"])
            release.touch()
            assert [finished_with(api, key["key"], i)["status"] for i in ids] == ["succeeded", "succeeded"]
            assert alerts_counted(api) == 1  # both ends passed 80 %: one alert, counted with the end
            (received,) = receiver.wait_for(1)
            secret = api.get("/v1/webhooks/secret", headers=bearer(ADMIN)).json()["secret"]
            shown = api.get(f"/v1/keys/{key['id']}", headers=bearer(ADMIN)).json()["spend"]
    event = Webhook(secret).verify(received.body, received.headers)
    assert (event["type"], event["data"]["scope"], event["data"]["name"]) == (
        "budget.threshold",
        "key",
        key["id"],
    )
    assert (event["data"]["measure"], event["data"]["period"], event["data"]["limit"]) == (
        "device_s",
        "day",
        0.001,
    )
    assert shown["alerted_at"] is not None
    assert worker.log().count(f"budget alert: key {key['id']} passed 80% of its day budget's device_s") == 1
