"""Reading the hourly usage totals finish.lua keeps by tenant, key and type (all-time ones: `stats`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from redis import Redis

from shared import redis_keys
from shared.budgets import Period, Spend, period_id
from shared.store.scripts import redis_errors


@dataclass(frozen=True)
class UsageRow:
    """One hourly total: `amount` of `measure` (jobs, device_s, tokens, …) of a tenant's key and type."""

    hour: int  # epoch seconds // 3600
    tenant: str
    key_id: str
    job_type: str
    measure: str
    amount: float


class UsageReads:
    """Reads of the usage totals and budget spend (`JobStore` answers them by name)."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def usage_rows(self, first_hour: int, last_hour: int, *, tenant: str | None = None) -> list[UsageRow]:
        """Every hourly total from `first_hour` to `last_hour` (both counted), of one tenant or all."""
        hours = range(first_hour, last_hour + 1)
        pipe = self._redis.pipeline(transaction=False)
        for hour in hours:
            pipe.hgetall(redis_keys.usage_hour(hour))
        with redis_errors():
            found = cast(list[dict[bytes, bytes]], pipe.execute())
        rows = []
        for hour, totals in zip(hours, found, strict=True):
            for field, amount in totals.items():
                owner, key_id, job_type, measure = field.decode().split("|")
                if tenant is None or owner == tenant:
                    rows.append(UsageRow(hour, owner, key_id, job_type, measure, float(amount)))
        return rows

    def spend(self, whose: Sequence[tuple[str, str, Period]], now: float) -> list[Spend]:
        """What each (kind `key` or `tenant`, name, period) used in the period holding `now`, in one trip."""
        pipe = self._redis.pipeline(transaction=False)
        for kind, name, period in whose:
            pipe.hmget(
                redis_keys.spend(period_id(period, now), kind, name), ["device_s", "tokens", "alerted_at"]
            )
        with redis_errors():
            found = cast(list[list[bytes | None]], pipe.execute())
        return [Spend(float(d or 0), int(t or 0), float(a) if a else None) for d, t, a in found]

    def budget_alert(self, subject: str) -> dict[str, object] | None:
        """The alert finish.lua wrote when a budget's spend first passed its threshold in a period.

        `subject` names the spend (`d20261206:key:<id>`); None once it expired or if none was written.
        """
        with redis_errors():
            raw = cast(bytes | None, self._redis.hget(redis_keys.spend_prefix() + subject, "alert"))
        return cast(dict[str, object], json.loads(raw)) if raw else None
