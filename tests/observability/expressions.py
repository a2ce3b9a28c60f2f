"""Every PromQL expression the operator's files hold: the dashboard's queries and the alert rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import promql_parser as pp
import yaml

from devtools import REPO
from devtools.dashboard.panels import expand

DASHBOARD = REPO / "deploy" / "grafana" / "llmb.json"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yaml"
PROMETHEUS = REPO / "deploy" / "prometheus"
# What Grafana's $__rate_interval becomes here: any valid duration parses the same.
INTERVAL = "5m"
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def dashboard() -> dict[str, Any]:
    """deploy/grafana/llmb.json as data."""
    model: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return model


def rules() -> dict[str, Any]:
    """deploy/prometheus/alerts.yaml as data."""
    data: dict[str, Any] = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return data


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every query of every panel, Grafana's interval variables given a value."""
    return [
        (f"panel {p['id']} {p['title']!r} {t['refId']}", expand(t["expr"], interval=INTERVAL))
        for p in dashboard()["panels"]
        for t in p.get("targets", [])
    ]


def rule_expressions() -> list[tuple[str, str]]:
    """(where, PromQL) for every rule."""
    return [
        (f"rule {r.get('alert') or r.get('record')}", r["expr"])
        for group in rules()["groups"]
        for r in group["rules"]
    ]


def all_expressions() -> list[tuple[str, str]]:
    """The dashboard's queries and the rules' expressions."""
    return dashboard_expressions() + rule_expressions()


def parse(expr: str) -> Any:
    """The expression's syntax tree, by promql-parser (Prometheus' grammar); ValueError on a syntax error."""
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


def metric_names(expr: str) -> set[tuple[str, bool]]:
    """(metric name, read as a range) for every selector of the expression; functions, labels and
    keywords are not selectors, and the parser tells them apart."""
    return {(selector.name, ranged) for selector, ranged in selectors(parse(expr))}
