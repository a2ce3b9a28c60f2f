"""Budgets at submit: a key or tenant past its budget for the period is refused (429 budget_exceeded)."""

from __future__ import annotations

import math
import time

from shared.auth import Principal
from shared.budgets import Budget, Spend, alert_caps, period_end
from shared.errors import BudgetExceededError
from shared.limits import Limits
from shared.store import JobStore


def tenant_budget(limits: Limits) -> Budget | None:
    """Every tenant's budget from the settings, None when it has no cap."""
    device_s, tokens = limits.tenant_budget_device_s, limits.tenant_budget_tokens
    if not device_s and not tokens:
        return None
    return Budget(device_s or None, tokens or None, limits.tenant_budget_period)


def job_budgets(key: Budget | None, limits: Limits) -> dict[str, object] | None:
    """The caps a new job's end counts against, as its record carries them for the 80 % alert."""
    return alert_caps(key, tenant_budget(limits))


def check_budgets(store: JobStore, principal: Principal, limits: Limits) -> None:
    """Raise BudgetExceededError (Retry-After: the period's reset) when the key or tenant used its budget.

    Spend counts jobs that ended; a job that starts under the budget may end past it.
    """
    budgets = [
        ("key", principal.key_id, principal.budget),
        ("tenant", principal.tenant, tenant_budget(limits)),
    ]
    wanted = [(kind, name, budget) for kind, name, budget in budgets if budget is not None]
    if not wanted:
        return
    now = time.time()
    spent = store.spend([(kind, name, budget.period) for kind, name, budget in wanted], now)
    for (kind, _, budget), spend in zip(wanted, spent, strict=True):
        if budget.exceeded(spend):
            raise BudgetExceededError(
                f"this {kind} used its {budget.period}'s budget ({_what(budget, spend)})",
                retry_after_s=max(1, math.ceil(period_end(budget.period, now) - now)),
            )


def _what(budget: Budget, spend: Spend) -> str:
    parts = []
    if budget.device_s is not None:
        parts.append(f"{spend.device_s:.1f} of {budget.device_s:g} device seconds")
    if budget.tokens is not None:
        parts.append(f"{spend.tokens} of {budget.tokens} tokens")
    return ", ".join(parts)
