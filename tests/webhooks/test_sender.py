"""One delivery at a time: what is sent and signed, where it may go, and how each answer is settled."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
from redis import Redis
from standardwebhooks import Webhook

from devtools.stack.process import wait_until
from shared import redis_keys
from shared.store import JobStore, Leases, Report
from shared.store.webhooks import WebhookStore
from shared.views import render_job
from shared.vocabulary import EventType
from shared.webhook import Outcome, WebhookEvent, delivery
from tests.fixtures.receiver import HANG, Receiver
from tests.webhooks.conftest import PUBLIC, SenderFor, hooked_job, try_next
from webhooks.loop import Loop

Receivers = Callable[..., Receiver]


def test_a_receiver_failing_twice_gets_one_signed_completed_after_three_attempts(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers
) -> None:
    receiver = receivers(500, HANG)
    job = hooked_job(jobs, receiver.url)
    stop = threading.Event()
    loop = threading.Thread(target=Loop(sender_for(), deliveries, stop=stop, threads=2).run)
    loop.start()
    try:
        first, second, third = receiver.wait_for(3, timeout=30)
        wait_until(lambda: deliveries.next_due() is None, timeout=10, what="the delivery to end")
    finally:
        stop.set()
        loop.join(timeout=10)
    assert [r.answered for r in receiver.received] == [500, HANG, 200]  # nothing after the 2xx
    attempts = deliveries.attempts(job.id)
    assert [(a.status_code, a.outcome) for a in attempts] == [
        (500, Outcome.RETRYING),
        (None, Outcome.RETRYING),
        (200, Outcome.DELIVERED),
    ]
    assert attempts[1].error is not None
    assert attempts[1].error.startswith("timed out")
    assert {r.headers["webhook-id"] for r in (first, second, third)} == {f"msg_{job.id}_completed"}
    secret = deliveries.secret(job.owner).current
    sent = Webhook(secret).verify(third.body, third.headers)  # raises unless the signature is right
    assert sent["type"] == "job.completed"
    assert sent["data"] == json.loads(render_job(jobs.get(job.id), base=PUBLIC).model_dump_json())
    assert sent["data"]["result"]["files"][0]["url"] == f"{PUBLIC}/v1/jobs/{job.id}/result/0"


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [(410, Outcome.STOPPED), (404, Outcome.STOPPED), (400, Outcome.STOPPED), (204, Outcome.DELIVERED)],
)
def test_410_and_other_final_answers_end_the_delivery_after_one_attempt(
    *,
    sender_for: SenderFor,
    jobs: JobStore,
    deliveries: WebhookStore,
    receivers: Receivers,
    answer: int,
    outcome: Outcome,
) -> None:
    receiver = receivers(then=answer)
    job = hooked_job(jobs, receiver.url)
    attempt = try_next(sender_for(), deliveries)
    assert attempt is not None
    assert (attempt.status_code, attempt.outcome, attempt.next_at) == (answer, outcome, None)
    assert deliveries.next_due() is None  # nothing is left to try: no sender can send it again
    assert len(receiver.received) == 1
    assert deliveries.attempts(job.id) == [attempt]


@pytest.mark.parametrize("answer", [408, 429, 500, 502, 503])
def test_retryable_statuses_are_tried_again_later_with_a_growing_pause(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers, answer: int
) -> None:
    receivers_url = receivers(then=answer).url
    hooked_job(jobs, receivers_url)
    sender = sender_for(webhook_backoff_s=10.0)
    pauses = []
    for _ in range(3):
        attempt = try_next(sender, deliveries)
        assert attempt is not None
        assert attempt.outcome == Outcome.RETRYING
        assert attempt.next_at is not None
        pauses.append(attempt.next_at - attempt.at)
    assert 5 <= pauses[0] <= 10
    assert 10 <= pauses[1] <= 20
    assert 20 <= pauses[2] <= 40


def test_a_redirect_is_not_followed(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers
) -> None:
    target = receivers()
    receiver = receivers(then=302, redirect_to=target.url)
    hooked_job(jobs, receiver.url)
    attempt = try_next(sender_for(), deliveries)
    assert attempt is not None
    assert (attempt.status_code, attempt.outcome) == (302, Outcome.STOPPED)
    assert len(receiver.received) == 1
    assert target.received == []


def test_a_name_that_resolves_to_loopback_at_send_time_is_not_delivered(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers
) -> None:
    # At submit the name resolved to a public address (the API checked it); now it points inside.
    receiver = receivers()
    job = hooked_job(jobs, f"http://hooks.example.com:{receiver.port}/hook")
    rebound = sender_for(resolve=lambda host, port: ["127.0.0.1"], webhook_allow_nets="")
    attempt = try_next(rebound, deliveries)
    assert attempt is not None
    assert attempt.outcome == Outcome.STOPPED
    assert attempt.error is not None
    assert "public address" in attempt.error
    assert "127.0.0.1" not in attempt.error  # the tenant reads its attempts: no internal address in them
    assert receiver.received == []
    assert deliveries.next_due() is None
    assert deliveries.attempts(job.id) == [attempt]


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers
) -> None:
    # The HTTP client never resolves the name itself: .invalid cannot resolve at all.
    receiver = receivers()
    hooked_job(jobs, f"http://hooks.example.invalid:{receiver.port}/in?x=1")
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["127.0.0.1"]

    attempt = try_next(sender_for(resolve=resolve), deliveries)
    assert attempt is not None
    assert attempt.outcome == Outcome.DELIVERED
    (request,) = receiver.received
    assert (request.path, request.headers["host"]) == ("/in?x=1", f"hooks.example.invalid:{receiver.port}")
    assert asked == [("hooks.example.invalid", receiver.port)]


def test_a_name_that_does_not_resolve_now_is_tried_again(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore
) -> None:
    def unresolvable(host: str, port: int) -> list[str]:
        raise OSError("Temporary failure in name resolution")

    hooked_job(jobs, "https://hooks.example.com/in")
    attempt = try_next(sender_for(resolve=unresolvable), deliveries)
    assert attempt is not None
    assert attempt.outcome == Outcome.RETRYING
    assert attempt.error is not None
    assert "public address" in attempt.error  # worded as an internal host's refusal: no oracle


def test_a_delivery_still_failing_when_its_window_closes_is_given_up(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers
) -> None:
    job = hooked_job(jobs, receivers(then=503).url)
    attempt = try_next(sender_for(webhook_retry_for_s=0), deliveries)
    assert attempt is not None
    assert (attempt.outcome, attempt.next_at) == (Outcome.GAVE_UP, None)
    assert deliveries.next_due() is None
    assert deliveries.attempts(job.id) == [attempt]


def test_after_a_rotation_deliveries_carry_both_signatures(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers
) -> None:
    receiver = receivers()
    job = hooked_job(jobs, receiver.url)
    old = deliveries.secret(job.owner).current
    new = deliveries.rotate(job.owner, now=time.time()).current
    try_next(sender_for(), deliveries)
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # a receiver with either secret accepts it
        Webhook(secret).verify(request.body, request.headers)


def test_started_and_progress_are_sent_with_progress_ids_fresh_per_send(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers, redis_client: Redis
) -> None:
    receiver = receivers()
    job = hooked_job(jobs, receiver.url, events=("started", "progress", "completed"), end=False)
    sender, leases = sender_for(), Leases(redis_client, lease_ttl_s=30)
    started = try_next(sender, deliveries)
    assert started is not None
    assert started.webhook_id == f"msg_{job.id}_started"
    ids = []
    for step in (1, 2):
        data = {"step": step, "total": 2}
        leases.report_many([Report(job.id, "w", EventType.PROGRESS, data, data)])  # schedules one progress
        made = try_next(sender, deliveries)
        assert made is not None
        assert made.event == WebhookEvent.PROGRESS
        ids.append(made.webhook_id)
        time.sleep(0.002)
    assert ids[0] != ids[1]
    assert all(i.startswith(f"msg_{job.id}_progress_") for i in ids)
    assert [json.loads(r.body)["type"] for r in receiver.received] == [
        "job.started",
        "job.progress",
        "job.progress",
    ]


def test_a_gone_job_and_the_progress_of_an_ended_one_are_dropped_unsent(
    sender_for: SenderFor, jobs: JobStore, deliveries: WebhookStore, receivers: Receivers, redis_client: Redis
) -> None:
    receiver = receivers()
    ended = hooked_job(jobs, receiver.url, events=("progress",))
    redis_client.zadd(redis_keys.webhook_deliveries(), {delivery(ended.id, WebhookEvent.PROGRESS): 0})
    assert try_next(sender_for(), deliveries) is None
    redis_client.zadd(redis_keys.webhook_deliveries(), {delivery("gone", WebhookEvent.COMPLETED): 0})
    assert try_next(sender_for(), deliveries) is None
    assert deliveries.next_due() is None
    assert receiver.received == []
    assert deliveries.attempts(ended.id) == []
