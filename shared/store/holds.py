"""Holds: places under the per-key and per-tenant caps on held requests (event streams, long-waits), in Redis.

Each hold is a lease in two sorted sets (the key's and the tenant's), scored by when it lapses;
its process renews it every third of its TTL while it holds, and removes it when the request ends. A
process that dies renews nothing: its holds lapse within HOLD_TTL_S, so none leaks for long.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from redis import Redis

from shared import redis_keys
from shared.store.scripts import Script, redis_errors

# A hold not renewed for this long is free again (its holder renews it three times as often).
HOLD_TTL_S = 30.0


@dataclass(frozen=True)
class Hold:
    """One held request's hold: its lease id, under its key and tenant."""

    key_id: str
    tenant: str
    lease: str


class Holds:
    """Takes, renews and gives back holds under the caps on held requests, across API processes."""

    def __init__(self, client: Redis, *, ttl_s: float = HOLD_TTL_S) -> None:
        self._redis = client
        self.ttl_s = ttl_s
        self._hold = Script(client, "hold")

    def take(self, key_id: str, tenant: str, *, key_cap: int, tenant_cap: int) -> Hold | str:
        """A hold for one more held request, or the cap that is full: "key" or "tenant" (UnavailableError)."""
        hold, now = Hold(key_id, tenant, uuid.uuid4().hex), time.time()
        args = {
            "lease": hold.lease,
            "now": now,
            "lapse": now + self.ttl_s,
            "key_cap": key_cap,
            "tenant_cap": tenant_cap,
            "ttl_ms": int(self.ttl_s * 1000) + 1,
        }
        with redis_errors():
            answer = self._hold(
                {"by_key": redis_keys.key_holds(key_id), "by_tenant": redis_keys.tenant_holds(tenant)}, args
            )
        full = answer.decode() if isinstance(answer, bytes) else str(answer)
        return hold if full == "ok" else full

    def renew(self, holds: list[Hold]) -> None:
        """Push back the lapse of every hold in `holds` (one round trip; UnavailableError)."""
        if not holds:
            return
        until, ttl_ms = time.time() + self.ttl_s, int(self.ttl_s * 1000) + 1
        pipe = self._redis.pipeline(transaction=False)
        for hold in holds:
            for name in (redis_keys.key_holds(hold.key_id), redis_keys.tenant_holds(hold.tenant)):
                pipe.zadd(name, {hold.lease: until}, xx=True)
                pipe.pexpire(name, ttl_ms)
        with redis_errors():
            pipe.execute()

    def give_back(self, hold: Hold) -> None:
        """Free the hold (UnavailableError: it lapses on its own within HOLD_TTL_S)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrem(redis_keys.key_holds(hold.key_id), hold.lease)
        pipe.zrem(redis_keys.tenant_holds(hold.tenant), hold.lease)
        with redis_errors():
            pipe.execute()

    def count(self, key_id: str, tenant: str) -> tuple[int, int]:
        """How many unlapsed holds the key and the tenant hold now."""
        now = time.time()
        with redis_errors():
            by_key = self._redis.zcount(redis_keys.key_holds(key_id), now, "+inf")
            by_tenant = self._redis.zcount(redis_keys.tenant_holds(tenant), now, "+inf")
        return int(by_key), int(by_tenant)
