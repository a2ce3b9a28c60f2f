"""Webhook deliveries in Redis: taken under a lease, settled with their attempt, and the tenants' secrets.

The store's scripts schedule a delivery (`job_id|event` in one sorted set, scored by when to try)
as a job starts, reports progress or ends; senders take the due ones here, each under a lease, so a
sender that dies loses nothing: what it held is due again when the lease passes.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import cast

from redis import Redis

from shared import redis_keys
from shared.store.batches import batch_webhooks
from shared.store.scripts import Script, redis_errors
from shared.webhook import Attempt, NoticeEvent, WebhookEvent, parse_delivery

# A job's list keeps its newest attempts only (a long job that reports progress makes many).
ATTEMPTS_KEPT = 1000
# After a rotation the replaced secret signs too, beside the new one, for this long.
ROTATION_GRACE_S = 24 * 3600
_SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret in the Standard Webhooks format: `whsec_` and base64 of 32 random bytes."""
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def attempts_key(member: str) -> str:
    """The list that records the attempts of a delivery: its job's, its batch's or its budget period's."""
    subject, event = parse_delivery(member)
    if isinstance(event, WebhookEvent):
        return redis_keys.webhook_attempts(subject)
    if event == NoticeEvent.BUDGET_THRESHOLD:
        return f"{redis_keys.spend_prefix()}{subject}:webhooks"
    return batch_webhooks(subject)


@dataclass(frozen=True)
class SigningSecret:
    """A tenant's signing secret, and the one it replaced while that still signs."""

    current: str
    previous: str | None = None
    previous_until: float | None = None

    def signing(self, now: float) -> list[str]:
        """The secrets a delivery made at `now` is signed with: the current one first."""
        if self.previous is not None and (self.previous_until or 0) > now:
            return [self.current, self.previous]
        return [self.current]


class WebhookStore:
    """The deliveries to make, the attempts made, and each tenant's signing secret."""

    def __init__(self, client: Redis, *, job_ttl_s: int) -> None:
        self._redis = client
        self.job_ttl_s = job_ttl_s
        self._claim = Script(client, "claim_webhooks")
        self._settle = Script(client, "settle_webhook")
        self._rotate = Script(client, "rotate_secret")

    def take_due(self, *, now: float, lease_until: float, limit: int) -> list[str]:
        """Up to `limit` deliveries due by `now`, leased to the caller until `lease_until`."""
        with redis_errors():
            found = self._claim(
                {"due": redis_keys.webhook_deliveries()},
                {"now": now, "lease_until": lease_until, "limit": limit},
            )
        return [m.decode() for m in found]

    def next_due(self) -> float | None:
        """When the earliest delivery is due (epoch seconds), or None when none is scheduled."""
        with redis_errors():
            first = self._redis.zrange(redis_keys.webhook_deliveries(), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def settle(
        self, member: str, *, lease: float, attempt: Attempt | None, next_at: float | None = None
    ) -> bool:
        """Record `attempt` and end the delivery (or make it due at `next_at`) while the lease holds.

        False when the lease had passed and another sender holds the delivery (it is theirs now).
        """
        args = {
            "member": member,
            "lease": lease,
            "next_at": "" if next_at is None else next_at,
            "attempt": attempt.model_dump_json() if attempt else "",
            "ttl": self.job_ttl_s,
            "keep": ATTEMPTS_KEPT,
        }
        store_keys = {"due": redis_keys.webhook_deliveries(), "attempts": attempts_key(member)}
        with redis_errors():
            return bool(self._settle(store_keys, args))

    def attempts(self, job_id: str) -> list[Attempt]:
        """The job's delivery attempts, oldest first (the newest ATTEMPTS_KEPT)."""
        return self.attempts_at(redis_keys.webhook_attempts(job_id))

    def attempts_at(self, key: str) -> list[Attempt]:
        """The attempts recorded in the list `key` (attempts_key of a delivery), oldest first."""
        with redis_errors():
            raw = cast(list[bytes], self._redis.lrange(key, 0, -1))
        return [Attempt.model_validate_json(item) for item in raw]

    def secret(self, tenant: str) -> SigningSecret:
        """The tenant's signing secret, made on first need."""
        key = redis_keys.webhook_secret(tenant)
        with redis_errors():
            self._redis.hsetnx(key, "current", new_secret())
            raw = cast(dict[bytes, bytes], self._redis.hgetall(key))
        return _decode(raw)

    def rotate(self, tenant: str, *, now: float) -> SigningSecret:
        """Give the tenant a new secret; the replaced one still signs for ROTATION_GRACE_S."""
        key = redis_keys.webhook_secret(tenant)
        args = {"new": new_secret(), "now": now, "previous_until": now + ROTATION_GRACE_S}
        with redis_errors():
            self._rotate({"secret": key}, args)
            raw = cast(dict[bytes, bytes], self._redis.hgetall(key))
        return _decode(raw)


def _decode(raw: dict[bytes, bytes]) -> SigningSecret:
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    until = fields.get("previous_until")
    return SigningSecret(fields["current"], fields.get("previous"), float(until) if until else None)
