"""PromQL over scraped samples: parsed by promql-parser (GreptimeDB's Rust parser, Prometheus' grammar),
evaluated here for the subset the dashboard uses, with no Prometheus server.

Supported: selectors with matchers, rate, histogram_quantile, ceil, floor, abs, vector, sum, max, min,
avg and count by or without,
arithmetic, comparisons and and/or/unless between vectors and scalars. rate() is the increase over the
window's own samples divided by their span (Prometheus also extrapolates to the window's edges).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import promql_parser as pp

from devtools.dashboard.series import Labels, Point, Store

Vector = dict[Labels, float]
Value = Vector | float
LOOKBACK_S = 30.0
ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "ceil": lambda v: float(math.ceil(v)) if math.isfinite(v) else v,
    "floor": lambda v: float(math.floor(v)) if math.isfinite(v) else v,
    "abs": abs,
}
AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": sum,
    "max": max,
    "min": min,
    "avg": lambda xs: sum(xs) / len(xs),
    "count": len,
}


class UnsupportedError(ValueError):
    """The expression uses PromQL this evaluator does not implement."""


def parse(expr: str) -> Any:
    """The expression's syntax tree (ValueError on a syntax error)."""
    return pp.parse(expr)


def selectors(node: Any) -> Iterator[tuple[Any, bool]]:
    """Every vector selector under `node`, and whether it is read as a range (`name[5m]`)."""
    if isinstance(node, pp.MatrixSelector):
        yield node.vector_selector, True
    elif isinstance(node, pp.VectorSelector):
        yield node, False
    elif isinstance(node, pp.BinaryExpr):
        yield from selectors(node.lhs)
        yield from selectors(node.rhs)
    elif isinstance(node, pp.Call):
        for arg in node.args:
            yield from selectors(arg)
    elif isinstance(node, pp.AggregateExpr | pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        yield from selectors(node.expr)


def evaluate(node: Any, store: Store, at: float) -> Value:
    """The value of a parsed expression at time `at` (a vector, or a scalar)."""
    kind = type(node).__name__
    if kind == "NumberLiteral":
        return float(node.val)
    if kind == "ParenExpr":
        return evaluate(node.expr, store, at)
    if kind == "VectorSelector":
        return _select(store.latest(node.name, at, lookback=LOOKBACK_S), node)
    if kind == "Call":
        return _call(node, store, at)
    if kind == "AggregateExpr":
        return _aggregate(node, store, at)
    if kind == "BinaryExpr":
        return _binary(node, evaluate(node.lhs, store, at), evaluate(node.rhs, store, at))
    raise UnsupportedError(f"{kind} is not supported: {node}")


def _matches(labels: Labels, node: Any) -> bool:
    values = dict(labels)
    for matcher in node.matchers.matchers:
        value, op = values.get(matcher.name, ""), str(matcher.op).rsplit(".", 1)[-1]
        regex = op in ("Re", "NotRe")
        hit = re.fullmatch(matcher.value, value) is not None if regex else value == matcher.value
        if hit == op.startswith("Not"):
            return False
    return True


def _select(series: dict[Labels, Any], node: Any) -> dict[Labels, Any]:
    return {labels: value for labels, value in series.items() if _matches(labels, node)}


def _call(node: Any, store: Store, at: float) -> Value:
    name = node.func.name
    if name == "rate":
        (matrix,) = node.args
        span = matrix.range.total_seconds()
        vs = matrix.vector_selector
        points = _select(store.window(vs.name, at - span, at), vs)
        return {labels: r for labels, series in points.items() if not math.isnan(r := _rate(series))}
    if name in ELEMENTWISE:
        (arg,) = (evaluate(a, store, at) for a in node.args)
        if not isinstance(arg, dict):
            raise UnsupportedError(f"{name} takes a vector")
        return {labels: ELEMENTWISE[name](value) for labels, value in arg.items()}
    if name == "vector":
        (scalar,) = (evaluate(a, store, at) for a in node.args)
        return {frozenset(): float(scalar)} if isinstance(scalar, float) else scalar
    if name == "histogram_quantile":
        phi, vector = (evaluate(arg, store, at) for arg in node.args)
        if not isinstance(phi, float) or not isinstance(vector, dict):
            raise UnsupportedError("histogram_quantile takes a number and a vector")
        return histogram_quantile(phi, vector)
    raise UnsupportedError(f"function {name} is not supported")


def _rate(points: list[Point]) -> float:
    """Per-second increase over the points, counter resets counted as a restart from zero."""
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return math.nan
    increase = 0.0
    for (_, before), (_, after) in itertools.pairwise(points):
        increase += after - before if after >= before else after
    return increase / (points[-1][0] - points[0][0])


def histogram_quantile(phi: float, buckets: Vector) -> Vector:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket where the rank falls."""
    groups: dict[Labels, list[tuple[float, float]]] = {}
    for labels, count in buckets.items():
        le = dict(labels).get("le")
        if le is not None:
            rest = frozenset((k, v) for k, v in labels if k != "le")
            groups.setdefault(rest, []).append((float(le), count))
    return {labels: _quantile(phi, sorted(points)) for labels, points in groups.items()}


def _quantile(phi: float, points: list[tuple[float, float]]) -> float:
    if not points or points[-1][0] != math.inf or points[-1][1] <= 0 or len(points) < 2:
        return math.nan
    rank = phi * points[-1][1]
    index = next(i for i, (_, count) in enumerate(points) if count >= rank)
    if index == len(points) - 1:
        return points[-2][0]
    start, below = (points[index - 1][0], points[index - 1][1]) if index > 0 else (0.0, 0.0)
    end, count = points[index]
    if count - below <= 0:
        return end
    return start + (end - start) * (rank - below) / (count - below)


def _aggregate(node: Any, store: Store, at: float) -> Vector:
    op = str(node.op)
    if op not in AGGREGATIONS:
        raise UnsupportedError(f"aggregation {op} is not supported")
    vector = evaluate(node.expr, store, at)
    if not isinstance(vector, dict):
        raise UnsupportedError(f"{op} over a scalar")
    modifier = node.modifier
    names = set(modifier.labels) if modifier is not None else set()
    # No modifier groups everything into one series, as `by ()` does.
    keep_named = modifier is None or str(modifier.type).endswith("By")
    groups: dict[Labels, list[float]] = {}
    for labels, value in vector.items():
        key = frozenset((k, v) for k, v in labels if (k in names) == keep_named)
        groups.setdefault(key, []).append(value)
    return {key: AGGREGATIONS[op](values) for key, values in groups.items()}


def _arithmetic(op: str) -> Callable[[float, float], float]:
    def divide(a: float, b: float) -> float:
        return a / b if b else (math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a))

    table: dict[str, Callable[[float, float], float]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": divide,
        ">": lambda a, b: float(a > b),
        "<": lambda a, b: float(a < b),
        ">=": lambda a, b: float(a >= b),
        "<=": lambda a, b: float(a <= b),
        "==": lambda a, b: float(a == b),
        "!=": lambda a, b: float(a != b),
    }
    if op not in table:
        raise UnsupportedError(f"operator {op} is not supported")
    return table[op]


def _match_key(labels: Labels, modifier: Any) -> Labels:
    matching = getattr(modifier, "matching", None)
    if matching is None:
        return labels
    names = set(matching.labels)
    on = str(matching.type).endswith("Include")
    return frozenset((k, v) for k, v in labels if (k in names) == on)


def _binary(node: Any, lhs: Value, rhs: Value) -> Value:
    op, modifier = str(node.op), node.modifier
    if op in ("and", "or", "unless"):
        return _set_operation(op, lhs, rhs, modifier)
    fn = _arithmetic(op)
    comparison = op in (">", "<", ">=", "<=", "==", "!=")
    keep_bool = modifier is not None and modifier.return_bool
    if isinstance(lhs, float) and isinstance(rhs, float):
        return fn(lhs, rhs)
    pairs = _pairs(lhs, rhs, modifier)
    if not comparison or keep_bool:
        return {labels: fn(a, b) for labels, (a, b) in pairs.items()}
    return {labels: a for labels, (a, b) in pairs.items() if fn(a, b)}


def _pairs(lhs: Value, rhs: Value, modifier: Any) -> dict[Labels, tuple[float, float]]:
    """Operands side by side: a vector with a scalar, or vectors one-to-one on their (matched) labels."""
    if isinstance(rhs, float) and isinstance(lhs, dict):
        return {labels: (value, rhs) for labels, value in lhs.items()}
    if isinstance(lhs, float) and isinstance(rhs, dict):
        return {labels: (lhs, value) for labels, value in rhs.items()}
    if not isinstance(lhs, dict) or not isinstance(rhs, dict):
        raise UnsupportedError("an operator between two scalars has no labels to match")
    right = {_match_key(labels, modifier): value for labels, value in rhs.items()}
    return {
        _match_key(labels, modifier): (value, right[key])
        for labels, value in lhs.items()
        if (key := _match_key(labels, modifier)) in right
    }


def _set_operation(op: str, lhs: Value, rhs: Value, modifier: Any) -> Vector:
    if not isinstance(lhs, dict) or not isinstance(rhs, dict):
        raise UnsupportedError(f"{op} needs two vectors")
    right = {_match_key(labels, modifier) for labels in rhs}
    if op == "and":
        return {k: v for k, v in lhs.items() if _match_key(k, modifier) in right}
    if op == "unless":
        return {k: v for k, v in lhs.items() if _match_key(k, modifier) not in right}
    left = {_match_key(labels, modifier) for labels in lhs}
    return {**lhs, **{k: v for k, v in rhs.items() if _match_key(k, modifier) not in left}}
