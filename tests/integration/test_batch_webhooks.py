"""A batch's webhook end to end: the openai SDK (extra_body), gunicorn, a worker, the batch runner, the
webhook sender and a real receiver on 127.0.0.1 (opened by LLMB_WEBHOOK_ALLOW_NETS)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from standardwebhooks import Webhook

from devtools.stack.deployment import Stack
from tests.fixtures.receiver import Receiver
from tests.integration.conftest import SCRIPTED
from tests.integration.test_batches import image_line, jsonl, until_ended
from tests.integration.test_webhooks import HOOKS


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Redis, the API (auth off: one tenant), a scripted image worker, the batch runner, the sender."""
    stack = Stack(tmp_path_factory.mktemp("batch-webhooks"))
    try:
        stack.start_redis(appendonly=True)
        stack.env.update(HOOKS)
        api = stack.start_api(workers=1)
        stack.start_worker(env={**SCRIPTED, "LLMB_BATCH_MAX": "1"})
        stack.start_batches()
        stack.start_webhooks()
        yield api.port
    except BaseException:
        for svc in stack.services:
            print(f"----- {svc.name} -----\n{svc.log()[-4000:]}")
        raise
    finally:
        stack.stop()


@pytest.fixture
def sdk(deployment: int) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{deployment}/v1", api_key="auth-is-off")
    yield client
    client.close()


@pytest.fixture
def http(deployment: int) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{deployment}/v1", timeout=30) as client:
        yield client


def create(sdk: openai.OpenAI, lines: list[Any], webhook: dict[str, Any]) -> str:
    uploaded = sdk.files.create(file=("in.jsonl", jsonl(lines)), purpose="batch")
    made = sdk.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/images/generations",
        completion_window="24h",
        extra_body={"webhook": webhook},
    )
    assert made.status == "validating"
    return made.id


def verified(http: httpx.Client, received: Any) -> dict[str, Any]:
    """The delivery's body, once its Standard Webhooks signature checks out with the tenant's secret."""
    secret = http.get("/webhooks/secret").json()["secret"]
    event: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    assert event == json.loads(received.body)
    return event


def attempts_until_delivered(http: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    """The batch's delivery attempts once the last one ended delivered."""
    deadline = time.monotonic() + 60
    while True:
        found: list[dict[str, Any]] = http.get(f"/batches/{batch_id}/webhooks").json()["attempts"]
        if found and found[-1]["outcome"] == "delivered":
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def test_a_completed_batch_is_told_once_signed_in_openai_s_event_shape_after_a_retry(
    sdk: openai.OpenAI, http: httpx.Client
) -> None:
    with Receiver([500]) as receiver:
        lines = [image_line(f"ok-{i}", "ok") for i in range(2)]
        batch_id = create(sdk, lines, {"url": receiver.url, "events": ["batch.completed"]})
        ended = until_ended(sdk, batch_id)
        assert ended.status == "completed"
        first, second = receiver.wait_for(2)
        attempts = attempts_until_delivered(http, batch_id)
    assert (first.answered, second.answered) == (500, 200)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # one event, tried twice
    event = verified(http, second)
    assert (event["object"], event["type"], event["id"]) == (
        "event",
        "batch.completed",
        second.headers["webhook-id"],
    )
    assert event["created_at"] == ended.completed_at
    data = event["data"]
    assert (data["id"], data["object"], data["status"]) == (batch_id, "batch", "completed")
    assert (data["output_file_id"], data["request_counts"]["completed"]) == (ended.output_file_id, 2)
    assert [a["outcome"] for a in attempts] == ["retrying", "delivered"]
    assert {a["event"] for a in attempts} == {"batch.completed"}
    assert len(receiver.received) == 2


def test_a_cancelled_batch_is_told_batch_cancelled(
    sdk: openai.OpenAI, http: httpx.Client, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    with Receiver() as receiver:
        lines = [image_line(f"hold-{i}", f"hold:{release}") for i in range(2)]
        batch_id = create(sdk, lines, {"url": receiver.url})  # every end, by default
        deadline = time.monotonic() + 60
        while not any(j["status"] == "running" for j in http.get("/jobs").json()["jobs"]):
            assert time.monotonic() < deadline, "no line started"
            time.sleep(0.05)
        assert sdk.batches.cancel(batch_id).status == "cancelling"
        release.touch()
        ended = until_ended(sdk, batch_id)
        (received,) = receiver.wait_for(1)
        attempts = attempts_until_delivered(http, batch_id)
    assert ended.status == "cancelled"
    event = verified(http, received)
    assert (event["type"], event["data"]["id"], event["data"]["status"]) == (
        "batch.cancelled",
        batch_id,
        "cancelled",
    )
    assert event["created_at"] == ended.cancelled_at
    assert [a["outcome"] for a in attempts] == ["delivered"]
