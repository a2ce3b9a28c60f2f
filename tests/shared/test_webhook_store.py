"""The webhook store: deliveries taken under a lease by one sender at a time, attempts, tenants' secrets."""

from __future__ import annotations

import time

from redis import Redis

from shared import redis_keys
from shared.store.webhooks import ROTATION_GRACE_S, WebhookStore
from shared.webhook import Attempt, Outcome, WebhookEvent


def test_a_due_delivery_goes_to_one_sender_and_comes_back_when_its_lease_passes(redis_client: Redis) -> None:
    store = WebhookStore(redis_client, job_ttl_s=60)
    redis_client.zadd(
        redis_keys.webhook_deliveries(), {"j1|completed": 100, "j2|completed": 200, "j3|started": 900}
    )
    assert store.take_due(now=300, lease_until=400, limit=10) == ["j1|completed", "j2|completed"]
    assert store.take_due(now=300, lease_until=400, limit=10) == []  # leased: nobody else takes them
    assert store.next_due() == 400
    # The first sender died: once the lease passes, another takes them (the undue one stays).
    assert store.take_due(now=401, lease_until=500, limit=1) == ["j1|completed"]
    # The dead sender's late settle changes nothing in the new holder's schedule.
    assert not store.settle("j1|completed", lease=400, attempt=None)
    assert store.settle("j1|completed", lease=500, attempt=None)
    assert redis_client.zscore(redis_keys.webhook_deliveries(), "j1|completed") is None


def test_a_settled_attempt_is_recorded_and_the_delivery_due_again_in_one_step(redis_client: Redis) -> None:
    store = WebhookStore(redis_client, job_ttl_s=60)
    redis_client.zadd(redis_keys.webhook_deliveries(), {"j1|completed": 100})
    (member,) = store.take_due(now=100, lease_until=160, limit=5)
    attempt = Attempt(
        at=100,
        event=WebhookEvent.COMPLETED,
        webhook_id="msg_j1_completed",
        outcome=Outcome.RETRYING,
        status_code=503,
        next_at=105,
    )
    assert store.settle(member, lease=160, attempt=attempt, next_at=105)
    assert store.next_due() == 105
    assert store.attempts("j1") == [attempt]
    assert 0 < redis_client.ttl(redis_keys.webhook_attempts("j1")) <= 60


def test_a_tenant_s_secret_is_made_once_and_a_rotation_keeps_the_old_one_signing_a_day(
    redis_client: Redis,
) -> None:
    store = WebhookStore(redis_client, job_ttl_s=60)
    first = store.secret("t")
    assert first.current.startswith("whsec_")
    assert len(first.current) == len("whsec_") + 44
    assert store.secret("t") == first
    assert store.secret("other").current != first.current
    now = time.time()
    rotated = store.rotate("t", now=now)
    assert (rotated.previous, rotated.previous_until) == (first.current, now + ROTATION_GRACE_S)
    assert rotated.signing(now) == [rotated.current, first.current]
    assert rotated.signing(now + ROTATION_GRACE_S + 1) == [rotated.current]
