"""Spending budgets: how much device time and how many tokens a key or tenant may use per day or month."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Period = Literal["day", "month"]
PERIODS: tuple[Period, ...] = ("day", "month")
# The share of a cap whose crossing alerts, once per budget and period (finish.lua decides).
ALERT_AT = 0.8

log = logging.getLogger(__name__)


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
    alerted_at: float | None = None  # when it first reached ALERT_AT of a cap of its budget (epoch s)


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


def alert_caps(key: Budget | None, tenant: Budget | None) -> dict[str, Any] | None:
    """What a job's record carries for the alert its end may make: ALERT_AT and the caps by scope."""
    caps = {
        scope: {k: v for k, v in asdict(budget).items() if v is not None}
        for scope, budget in (("key", key), ("tenant", tenant))
        if budget is not None
    }
    return {"alert_at": ALERT_AT, **caps} if caps else None


def report_alerts(raw: Sequence[bytes | str]) -> list[dict[str, Any]]:
    """Log each alert a job's end made (JSON from finish.lua) at WARNING; the alerts, decoded."""
    alerts = [json.loads(item) for item in raw]
    for alert in alerts:
        log.warning(
            "budget alert: %s %s passed %d%% of its %s budget's %s in %s (%g of %g)",
            alert["scope"],
            alert["name"],
            round(float(alert["threshold"]) * 100),
            alert["period"],
            alert["measure"],
            alert["period_id"],
            alert["spent"],
            alert["limit"],
        )
    return alerts
