"""Trickling receivers: an attempt ends by its deadline, is recorded; no tenant holds every thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from shared.store import JobStore
from shared.store.webhooks import WebhookStore
from shared.webhook import Outcome
from tests.fixtures.receiver import TRICKLE_BODY, TRICKLE_HEAD, Receiver
from tests.webhooks.conftest import SenderFor, hooked_job, try_next
from webhooks.loop import Loop

DEADLINE_S = 2.0
MARGIN_S = 1.5  # what a loaded machine may add to the deadline


@pytest.mark.parametrize(
    "case",
    [(TRICKLE_HEAD, Outcome.RETRYING, None, "deadline"), (TRICKLE_BODY, Outcome.DELIVERED, 200, None)],
    ids=["head", "body"],
)
def test_a_trickling_receiver_holds_an_attempt_no_longer_than_its_deadline_and_it_is_recorded(
    sender_for: SenderFor,
    deliveries: WebhookStore,
    jobs: JobStore,
    receivers: Callable[..., Receiver],
    case: tuple[str, Outcome, int | None, str | None],
) -> None:
    answer, outcome, status, error = case
    receiver = receivers(answer)
    job = hooked_job(jobs, receiver.url)
    sender = sender_for(webhook_deadline_s=DEADLINE_S)

    started = time.monotonic()
    made = try_next(sender, deliveries)

    assert time.monotonic() - started < DEADLINE_S + MARGIN_S  # the receiver trickles for 30 s and more
    assert made is not None
    assert (made.outcome, made.status_code) == (outcome, status)
    assert deliveries.attempts(job.id) == [made]
    assert (error in (made.error or "")) if error else made.error is None


def test_eight_trickling_receivers_of_one_tenant_do_not_delay_another_tenants_delivery(
    sender_for: SenderFor, deliveries: WebhookStore, jobs: JobStore, receivers: Callable[..., Receiver]
) -> None:
    slow = [receivers(then=TRICKLE_HEAD) for _ in range(8)]
    for receiver in slow:
        hooked_job(jobs, receiver.url, owner="tenant-a")
    sender = sender_for(webhook_deadline_s=30.0, webhook_tenant_sends=4)
    stop = threading.Event()
    loop = threading.Thread(target=Loop(sender, deliveries, stop=stop, threads=8).run)
    loop.start()
    try:
        _until(lambda: sum(len(r.received) for r in slow) >= 4)  # tenant A's attempts are under way
        fast = receivers()
        sent_at = time.monotonic()
        hooked_job(jobs, fast.url, owner="tenant-b")

        fast.wait_for(1, timeout=30)
        assert time.monotonic() - sent_at < DEADLINE_S  # well within an attempt's deadline (30 s here)
        assert sum(len(r.received) for r in slow) == 4  # tenant A never had more than its share
    finally:
        stop.set()
        for receiver in slow:
            receiver.release.set()
        loop.join(timeout=60)
    assert not loop.is_alive()


def _until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)
