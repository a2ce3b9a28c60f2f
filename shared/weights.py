"""Fair-share weights by tenant (`LLMB_TENANT_WEIGHTS`), as the settings hold them: hashable pairs."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def _pairs(value: Any) -> Any:
    """JSON `{"tenant": weight}` becomes sorted (tenant, weight) pairs; anything else is left to pydantic."""
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def _positive(pairs: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    if any(weight <= 0 for _, weight in pairs):
        raise ValueError("every tenant's weight must be above 0")
    return pairs


# A tenant's share of a queue is its weight over the weights of the tenants waiting (shared/store/order.py).
TenantWeights = Annotated[tuple[tuple[str, float], ...], BeforeValidator(_pairs), AfterValidator(_positive)]


def weight_of(weights: TenantWeights, tenant: str) -> float:
    """The tenant's weight, 1 when `weights` does not name it."""
    return dict(weights).get(tenant, 1.0)
