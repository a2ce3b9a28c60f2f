"""Webhooks end to end (issue 10, acceptance 2): real API, worker and sender processes, a real receiver."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from devtools.stack.deployment import Stack
from devtools.stack.process import free_port
from shared import redis_keys
from shared.redis_conn import connect
from shared.webhook import WebhookEvent, delivery
from tests.fixtures.receiver import HANG, Receiver
from tests.fixtures.stacks import discard
from tests.integration.conftest import SCRIPTED, TERMINAL, Api

# Loopback opened for the receiver; a hung receiver times out in 1 s; pauses of 0.1 to 0.2 s, doubling.
HOOKS = {
    "LLMB_WEBHOOK_ALLOW_NETS": "127.0.0.0/8",
    "LLMB_WEBHOOK_TIMEOUT_S": "1",
    "LLMB_WEBHOOK_BACKOFF_S": "0.2",
}


def start_all(stack: Stack, **env: str) -> Api:
    """The API (its public URL known to the sender), a worker with the scripted pipeline, and the sender."""
    port = free_port()
    stack.env.update({**HOOKS, "LLMB_PUBLIC_URL": f"http://127.0.0.1:{port}", **env})
    api = Api(stack.start_api(port=port).port)
    stack.start_worker(env=SCRIPTED)
    return api


def submit_hooked(api: Api, url: str) -> dict[str, Any]:
    body = {
        "type": "image",
        "input": {"prompt": "ok", "steps": 1, "width": 64, "height": 64},
        "webhook": {"url": url},
    }
    response = api.http.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def attempts_until(api: Api, job_id: str, outcome: str, *, timeout: float = 60) -> list[dict[str, Any]]:
    """The job's attempts once the last one ended with `outcome`."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = api.http.get(f"/v1/jobs/{job_id}/webhooks").json()["attempts"]
        if found and found[-1]["outcome"] == outcome:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no attempt ended {outcome} within {timeout} s: {found}")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Api]]:
    """One deployment for the tests that only submit and watch."""
    stack = Stack(tmp_path_factory.mktemp("webhooks"))
    try:
        stack.start_redis(appendonly=True)
        api = start_all(stack)
        stack.start_webhooks()
        yield stack, api
        api.close()
    finally:
        discard(stack)


def test_a_receiver_failing_twice_gets_exactly_one_signed_completed_after_three_attempts(
    running: tuple[Stack, Api],
) -> None:
    _, api = running
    with Receiver([500, HANG]) as receiver:
        job = submit_hooked(api, receiver.url)
        attempts = attempts_until(api, job["id"], "delivered")
        final = api.finished(job["id"])
        secret = api.http.get("/v1/webhooks/secret").json()["secret"]
    assert [(a["status_code"], a["outcome"]) for a in attempts] == [
        (500, "retrying"),
        (None, "retrying"),
        (200, "delivered"),
    ]
    assert [r.answered for r in receiver.received] == [500, HANG, 200]
    last = receiver.received[-1]
    sent = Webhook(secret).verify(last.body, last.headers)  # the standardwebhooks verifier
    assert last.headers["webhook-id"] == f"msg_{job['id']}_completed"
    assert {r.headers["webhook-id"] for r in receiver.received} == {last.headers["webhook-id"]}
    assert sent["type"] == "job.completed"
    assert sent["data"] == final  # the job as GET /v1/jobs/{id} shows it, result URLs included
    assert sent["data"]["result"]["files"][0]["url"].startswith(f"{api.base}/v1/jobs/{job['id']}/result/")


def test_a_receiver_answering_410_gets_no_more_attempts(running: tuple[Stack, Api]) -> None:
    stack, api = running
    with Receiver(then=410) as receiver:
        job = submit_hooked(api, receiver.url)
        (attempt,) = attempts_until(api, job["id"], "stopped")
    assert (attempt["status_code"], attempt["next_attempt_at"]) == (410, None)
    assert len(receiver.received) == 1
    redis = connect(stack.env["LLMB_REDIS_URL"])
    # Nothing is scheduled any more, so no sender can try it again.
    assert redis.zscore(redis_keys.webhook_deliveries(), delivery(job["id"], WebhookEvent.COMPLETED)) is None
    redis.close()


def test_killing_the_sender_between_attempts_loses_nothing(stack: Stack) -> None:
    # Pauses of 1.5 to 3 s, so the kill lands between the first attempt and the second.
    api = start_all(stack, LLMB_WEBHOOK_BACKOFF_S="3")
    first = stack.start_webhooks(name="webhooks-1")
    with Receiver([500]) as receiver:
        job = submit_hooked(api, receiver.url)
        attempts_until(api, job["id"], "retrying")
        first.stop(sig=signal.SIGKILL, timeout=0)
        assert len(receiver.received) == 1
        stack.start_webhooks(name="webhooks-2")
        attempts = attempts_until(api, job["id"], "delivered")
    assert [a["outcome"] for a in attempts] == ["retrying", "delivered"]
    assert [r.answered for r in receiver.received] == [500, 200]
    assert api.job(job["id"])["status"] in TERMINAL
