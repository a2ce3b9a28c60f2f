"""Spending budgets: how much device time and how many tokens a key or tenant may use per day or month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Period = Literal["day", "month"]
PERIODS: tuple[Period, ...] = ("day", "month")


@dataclass(frozen=True)
class Budget:
    """A cap per UTC day or month on device seconds and/or tokens (prompt + completion); None: no cap."""

    device_s: float | None = None
    tokens: int | None = None
    period: Period = "month"

    def exceeded(self, spend: Spend) -> bool:
        """True once `spend` has reached either cap."""
        return (self.device_s is not None and spend.device_s >= self.device_s) or (
            self.tokens is not None and spend.tokens >= self.tokens
        )


@dataclass(frozen=True)
class Spend:
    """What a key or tenant used in one period: device seconds and tokens."""

    device_s: float = 0.0
    tokens: int = 0


def period_id(period: Period, now: float) -> str:
    """The name of the UTC day (`d20260131`) or month (`m202601`) that holds `now` (epoch seconds)."""
    at = datetime.fromtimestamp(now, UTC)
    return at.strftime("d%Y%m%d") if period == "day" else at.strftime("m%Y%m")


def period_end(period: Period, now: float) -> float:
    """When the UTC day or month that holds `now` ends (epoch seconds): the budget's reset."""
    at = datetime.fromtimestamp(now, UTC)
    if period == "day":
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.timestamp() + 86400
    following = at.replace(year=at.year + at.month // 12, month=at.month % 12 + 1, day=1)
    return following.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
