"""Per-key submission rate, counted in Redis (so it holds across API processes) by the `limits` package.

The algorithm is `limits`' sliding window counter: the current and previous minute's counts,
weighted by how much of the previous minute the window still covers. The answer carries the IETF
draft's rate-limit fields (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy: "jobs";q=N;w=60`
and `RateLimit: "jobs";r=<remaining>;t=<seconds until the window frees more>`.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from redis import Redis

from shared.auth import Principal
from shared.errors import RateLimitedError
from shared.settings import Limits
from shared.store import redis_errors

_WINDOW_S = 60


class SubmissionLimiter:
    """Counts each key's job submissions per minute; refuses past its limit with RateLimitedError (429)."""

    def __init__(self, client: Redis, url: str, limits: Limits) -> None:
        storage = RedisStorage(url, connection_pool=client.connection_pool, key_prefix="llmb:rate")
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.default_per_minute = limits.key_jobs_per_minute
        self._items: dict[int, RateLimitItemPerMinute] = {}

    def _item(self, per_minute: int) -> RateLimitItemPerMinute:
        if per_minute not in self._items:
            self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        return self._items[per_minute]

    def hit(self, principal: Principal) -> dict[str, str]:
        """Count one submission; the RateLimit headers, or RateLimitedError with them and Retry-After."""
        per_minute = principal.jobs_per_minute or self.default_per_minute
        item = self._item(per_minute)
        with redis_errors():
            allowed = self.limiter.hit(item, principal.key_id)
            reset_at, remaining = self.limiter.get_window_stats(item, principal.key_id)
        wait_s = max(1, math.ceil(reset_at - time.time()))
        headers = {
            "RateLimit-Policy": f'"jobs";q={per_minute};w={_WINDOW_S}',
            "RateLimit": f'"jobs";r={max(0, remaining)};t={wait_s}',
        }
        if not allowed:
            message = f"this key may submit {per_minute} jobs a minute; try again in {wait_s} s"
            raise RateLimitedError(message, retry_after_s=wait_s, headers=headers)
        return headers
