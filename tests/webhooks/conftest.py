"""The sender against a real Redis and real receivers on 127.0.0.1, its resolver injected."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from redis import Redis

from shared.job_record import JobRecord, JobType
from shared.settings import Settings
from shared.store import JobStore
from shared.store.webhooks import WebhookStore
from shared.webhook import Attempt
from shared.webhook_targets import Resolver, system_resolver
from tests.fixtures.jobs import new_record
from tests.fixtures.receiver import Receiver
from webhooks.post import client
from webhooks.sender import Sender

PUBLIC = "http://api.test"
RESULT = {
    "seed": 7,
    "files": [{"key": "results/x/0.png", "content_type": "image/png", "width": 1, "height": 1}],
}
SenderFor = Callable[..., Sender]


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """Loopback opened, short timeouts and pauses, links under PUBLIC."""
    return settings.model_copy(
        update={
            "webhook_allow_nets": "127.0.0.0/8",
            "webhook_timeout_s": 0.5,
            "webhook_backoff_s": 0.05,
            "public_url": PUBLIC,
        }
    )


@pytest.fixture
def jobs(redis_client: Redis, hook_settings: Settings) -> JobStore:
    return JobStore(redis_client, job_ttl_s=hook_settings.job_ttl_s)


@pytest.fixture
def deliveries(redis_client: Redis, hook_settings: Settings) -> WebhookStore:
    return WebhookStore(redis_client, job_ttl_s=hook_settings.job_ttl_s)


@pytest.fixture
def http(hook_settings: Settings) -> Iterator[httpx.Client]:
    with client(hook_settings.webhook_timeout_s) as made:
        yield made


@pytest.fixture
def sender_for(
    jobs: JobStore, deliveries: WebhookStore, hook_settings: Settings, http: httpx.Client
) -> SenderFor:
    """A sender with these settings (overridden as asked) and resolver."""

    def build(resolve: Resolver = system_resolver, **overrides: Any) -> Sender:
        return Sender(jobs, deliveries, hook_settings.model_copy(update=overrides), http, resolve=resolve)

    return build


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Receivers, each closed after the test."""
    made: list[Receiver] = []

    def build(*script: int | str, **options: Any) -> Receiver:
        made.append(Receiver(script, **options))
        return made[-1]

    yield build
    for receiver in made:
        receiver.close()


def hooked_job(
    jobs: JobStore,
    url: str,
    *,
    events: tuple[str, ...] = ("completed",),
    end: bool = True,
    owner: str = "anonymous",
) -> JobRecord:
    """A job whose webhook calls `url` for `events`, started and (when `end`) succeeded as a worker does."""
    record = new_record(owner=owner).model_copy(
        update={"webhook": {"url": url, "events": list(events)}, "webhook_events": " ".join(events)}
    )
    jobs.create(record)
    assert jobs.start(record.id, JobType.IMAGE, holder="w", lease_until=time.time() + 30) is not None
    if end:
        assert jobs.succeed(record.id, JobType.IMAGE, holder="w", result=RESULT).ok
    return jobs.get(record.id)


def try_next(sender: Sender, deliveries: WebhookStore) -> Attempt | None:
    """Take the next scheduled delivery (as if its time had come) and try it once."""
    due = deliveries.next_due()
    assert due is not None, "no delivery is scheduled"
    now = max(time.time(), due)
    (member,) = deliveries.take_due(now=now, lease_until=now + 60, limit=1)
    return sender.attempt(member, lease=now + 60)
