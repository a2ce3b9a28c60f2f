"""The replica arithmetic of KEDA and the Kubernetes HPA (v2), as pure functions and one small class."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Select = Literal["Max", "Min", "Disabled"]
# The HPA controller's --horizontal-pod-autoscaler-tolerance default: no change within ±10 %.
TOLERANCE = 0.1
# The HPA controller's --horizontal-pod-autoscaler-sync-period default.
HPA_SYNC_S = 15


@dataclass(frozen=True)
class Policy:
    """One HPA scaling policy: at most `value` pods (or percent) per `period_s`."""

    kind: Literal["Pods", "Percent"]
    value: int
    period_s: int


@dataclass(frozen=True)
class Rules:
    """One direction of an HPA `behavior`: stabilization window, policies and how to pick among them."""

    window_s: int
    policies: tuple[Policy, ...]
    select: Select = "Max"


# Kubernetes' defaults (autoscaling/v2 docs, "Default Behavior").
DEFAULT_UP = Rules(0, (Policy("Percent", 100, 15), Policy("Pods", 4, 15)))
DEFAULT_DOWN = Rules(300, (Policy("Percent", 100, 15),))


@dataclass(frozen=True)
class Behavior:
    """An HPA's `spec.behavior`, with Kubernetes' defaults where a field is absent."""

    up: Rules = DEFAULT_UP
    down: Rules = DEFAULT_DOWN

    @classmethod
    def from_spec(cls, spec: dict[str, Any] | None) -> Behavior:
        """The behavior a manifest's `behavior:` block gives, defaulted field by field like the API server."""
        spec = spec or {}
        return cls(_rules(spec.get("scaleUp"), DEFAULT_UP), _rules(spec.get("scaleDown"), DEFAULT_DOWN))


def _rules(spec: dict[str, Any] | None, default: Rules) -> Rules:
    """One direction's rules from its manifest block, each absent field taken from `default`."""
    if not spec:
        return default
    policies = tuple(
        Policy(p["type"], int(p["value"]), int(p["periodSeconds"])) for p in spec.get("policies") or []
    )
    return Rules(
        window_s=int(spec.get("stabilizationWindowSeconds", default.window_s)),
        policies=policies or default.policies,
        select=spec.get("selectPolicy", default.select),
    )


def keda_active(metric: float, activation: float) -> bool:
    """KEDA's activation test: a scaler is active only while its metric exceeds the activation value."""
    return metric > activation


def average_value_replicas(metric: float, target: float, current: int, tolerance: float = TOLERANCE) -> int:
    """The HPA's raw recommendation for an External metric with an AverageValue target (KEDA's default)."""
    if current > 0 and abs(metric / (target * current) - 1.0) <= tolerance:
        return current
    return math.ceil(metric / target)


def utilization_replicas(
    current: int, utilization: float, target: float, tolerance: float = TOLERANCE
) -> int:
    """The HPA's raw recommendation for a Resource (CPU) or Value target: ceil(current * usage / target)."""
    ratio = utilization / target
    if abs(ratio - 1.0) <= tolerance:
        return current
    return math.ceil(current * ratio)


def _changed_within(events: list[tuple[float, int]], now: float, period_s: int, sign: int) -> int:
    """Replicas the HPA added (sign 1) or removed (sign -1) in the last `period_s` seconds."""
    return sum(abs(c) for t, c in events if now - t < period_s and c * sign > 0)


def up_limit(current: int, events: list[tuple[float, int]], now: float, rules: Rules) -> int:
    """The most replicas the scale-up policies allow now, as the HPA controller computes it."""
    if rules.select == "Disabled":
        return current
    limits = []
    for p in rules.policies:
        start = (
            current
            - _changed_within(events, now, p.period_s, 1)
            + _changed_within(events, now, p.period_s, -1)
        )
        limits.append(start + p.value if p.kind == "Pods" else math.ceil(start * (1 + p.value / 100)))
    return max(limits) if rules.select == "Max" else min(limits)


def down_limit(current: int, events: list[tuple[float, int]], now: float, rules: Rules) -> int:
    """The fewest replicas the scale-down policies allow now, as the HPA controller computes it."""
    if rules.select == "Disabled":
        return current
    limits = []
    for p in rules.policies:
        start = (
            current
            + _changed_within(events, now, p.period_s, -1)
            - _changed_within(events, now, p.period_s, 1)
        )
        limits.append(start - p.value if p.kind == "Pods" else int(start * (1 - p.value / 100)))
    # "Max" selects the policy that allows the biggest change, which for scale-down is the lowest floor.
    return min(limits) if rules.select == "Max" else max(limits)


def _within(now: float, t: float, window_s: int) -> bool:
    """Whether a recommendation made at `t` counts in a window ending now (the current one always does)."""
    return t == now or now - t < window_s


@dataclass
class Hpa:
    """One HorizontalPodAutoscaler's memory (recommendations, scale events) and its per-sync decision."""

    min_replicas: int
    max_replicas: int
    behavior: Behavior = field(default_factory=Behavior)
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    events: list[tuple[float, int]] = field(default_factory=list)

    def stabilized(self, now: float, raw: int, current: int) -> int:
        """The raw recommendation after both windows (max over scale-down's, min over scale-up's)."""
        self.recommendations.append((now, raw))
        horizon = max(self.behavior.up.window_s, self.behavior.down.window_s)
        self.recommendations = [(t, r) for t, r in self.recommendations if now - t <= horizon]
        up = min(r for t, r in self.recommendations if _within(now, t, self.behavior.up.window_s))
        down = max(r for t, r in self.recommendations if _within(now, t, self.behavior.down.window_s))
        return min(max(current, up), down)

    def step(self, now: float, raw: int, current: int) -> int:
        """The replica count this sync sets, from the raw recommendation and the current count."""
        desired = self.stabilized(now, raw, current)
        if desired > current:
            ceiling = min(
                self.max_replicas, max(current, up_limit(current, self.events, now, self.behavior.up))
            )
            desired = min(desired, ceiling)
        elif desired < current:
            floor = max(
                self.min_replicas, min(current, down_limit(current, self.events, now, self.behavior.down))
            )
            desired = max(desired, floor)
        desired = min(max(desired, self.min_replicas), self.max_replicas)
        if desired != current:
            self.events.append((now, desired - current))
            self.events = [(t, c) for t, c in self.events if now - t < 1800]
        return desired
