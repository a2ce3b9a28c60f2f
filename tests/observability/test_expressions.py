"""The PromQL helpers the checks and the dashboard picture rely on: which names are metrics, Grafana's
interval variables, legends. Prometheus itself evaluates the queries (test_scrape.py)."""

from __future__ import annotations

import pytest

from devtools.dashboard.panels import expand, legend
from tests.observability.expressions import metric_names, parse


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("llmb_queue_waiting", {("llmb_queue_waiting", False)}),
        (
            'histogram_quantile(0.95, sum by (le, type) (rate(llmb_step_seconds_bucket{type="chat"}[5m])))',
            {("llmb_step_seconds_bucket", True)},
        ),
        (
            "sum without (instance) (rate(a_total[1m])) / on (type) group_left max by (type) (b)",
            {("a_total", True), ("b", False)},
        ),
        (
            "(max by (queue) (w) > 0) and (max by (queue) (x) == bool 0) or vector(1)",
            {("w", False), ("x", False)},
        ),
        ('count(up{job="api", le=~"sum|rate"}) unless absent(rate)', {("up", False), ("rate", False)}),
    ],
    ids=["bare", "histogram", "matching", "set-operators", "names-that-look-like-functions"],
)
def test_metric_names_are_told_from_functions_labels_and_keywords(
    expr: str, names: set[tuple[str, bool]]
) -> None:
    assert metric_names(expr) == names


@pytest.mark.parametrize("expr", ["sum(rate(a[5m])", "rate(a[$__rate_interval])", "a b", "sum by (x (a)"])
def test_malformed_expressions_are_refused(expr: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse(expr)


def test_grafana_interval_variables_are_given_a_duration() -> None:
    expr = "rate(a[$__rate_interval]) + rate(b[${__rate_interval}]) + rate(c[$__interval])"
    assert expand(expr, interval="30s") == "rate(a[30s]) + rate(b[30s]) + rate(c[30s])"


def test_legends_fill_in_labels_as_grafana_does() -> None:
    assert legend("p95 {{type}} / {{ queue }}", {"type": "chat", "queue": "q"}) == "p95 chat / q"
    assert legend("", {"b": "2", "a": "1"}) == '{a="1", b="2"}'
