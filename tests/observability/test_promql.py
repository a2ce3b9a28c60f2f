"""The PromQL helpers the checks and the dashboard picture rely on: which names are metrics, and the
evaluator's arithmetic against values worked out by hand (Prometheus' documented semantics)."""

from __future__ import annotations

import math

import pytest

from devtools.dashboard import promql
from devtools.dashboard.panels import expand, legend
from devtools.dashboard.series import Store
from tests.observability.expressions import family, metric_names


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
        promql.parse(expr)


def test_grafana_interval_variables_are_given_a_duration() -> None:
    expr = "rate(a[$__rate_interval]) + rate(b[${__rate_interval}]) + rate(c[$__interval])"
    assert expand(expr, interval="30s") == "rate(a[30s]) + rate(b[30s]) + rate(c[30s])"


def test_histogram_parts_belong_to_their_family() -> None:
    types = {"x_bucket": "histogram", "x_count": "histogram", "y_count": "counter"}
    assert [family(n, types) for n in ("x_bucket", "x_count", "y_count", "z")] == ["x", "x", "y_count", "z"]


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def _store(series: dict[str, list[tuple[dict[str, str], list[float]]]], *, step: float = 10) -> Store:
    """A store scraped at 0, step, 2*step, ...: each sample name has (labels, values) pairs."""
    store = Store()
    scrapes = max(len(values) for pairs in series.values() for _, values in pairs)
    for n in range(scrapes):
        lines = [
            f"{name}{{{_labels(labels)}}} {values[n]}"
            for name, pairs in series.items()
            for labels, values in pairs
            if n < len(values)
        ]
        store.add_exposition("\n".join(lines) + "\n", instance="i", at=n * step)
        store.times.append(n * step)
    return store


def _at(expr: str, store: Store, at: float) -> dict[frozenset[tuple[str, str]], float] | float:
    return promql.evaluate(promql.parse(expr), store, at)


def _values(result: object) -> dict[str, float]:
    assert isinstance(result, dict)
    return {
        ",".join(f"{k}={v}" for k, v in sorted(labels) if k != "instance"): value
        for labels, value in result.items()
    }


def test_rate_is_the_increase_per_second_and_survives_a_counter_reset() -> None:
    store = _store({"c_total": [({"t": "a"}, [0, 10, 30, 5, 15])]})
    # 10 + 20 + 5 (restart from 0) + 10 over 40 s.
    assert _values(_at("rate(c_total[1m])", store, 40)) == {"t=a": pytest.approx(45 / 40)}
    # The window holds the points at 20, 30 and 40 s: 5 + 10 over 20 s.
    assert _values(_at("rate(c_total[25s])", store, 40)) == {"t=a": pytest.approx(15 / 20)}
    assert _at("rate(c_total[5s])", store, 40) == {}


def test_histogram_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    buckets = [("0.1", 0, 10), ("0.5", 0, 60), ("1.0", 0, 90), ("+Inf", 0, 100)]
    store = _store({"h_bucket": [({"le": le}, [a, b]) for le, a, b in buckets]})
    quantile = "histogram_quantile({phi}, sum by (le) (rate(h_bucket[1m])))"
    # Rank 50 of 100 falls in (0.1, 0.5], which holds 50 from 10: 0.1 + 0.4 * 40/50.
    assert _values(_at(quantile.format(phi=0.5), store, 10)) == {"": pytest.approx(0.42)}
    # Rank 95 falls in the +Inf bucket: the highest finite bound.
    assert _values(_at(quantile.format(phi=0.95), store, 10)) == {"": pytest.approx(1.0)}
    # Rank 5 falls in the first bucket, whose lower bound is 0.
    assert _values(_at(quantile.format(phi=0.05), store, 10)) == {"": pytest.approx(0.05)}
    # Whole jobs: ceil rounds the interpolation up.
    assert _values(_at(f"ceil({quantile.format(phi=0.5)})", store, 10)) == {"": 1.0}


def test_histogram_quantile_of_no_observations_is_nan() -> None:
    store = _store({"h_bucket": [({"le": "1.0"}, [3, 3]), ({"le": "+Inf"}, [3, 3])]})
    (value,) = _values(_at("histogram_quantile(0.5, rate(h_bucket[1m]))", store, 10)).values()
    assert math.isnan(value)


def test_aggregations_group_by_and_without_labels() -> None:
    store = _store(
        {"g": [({"q": "a", "r": "1"}, [1]), ({"q": "a", "r": "2"}, [4]), ({"q": "b", "r": "1"}, [2])]}
    )
    assert _values(_at("sum by (q) (g)", store, 0)) == {"q=a": 5, "q=b": 2}
    assert _values(_at("max by (q) (g)", store, 0)) == {"q=a": 4, "q=b": 2}
    assert _values(_at("avg without (instance, r) (g)", store, 0)) == {"q=a": 2.5, "q=b": 2}
    assert _values(_at("count(g)", store, 0)) == {"": 3}


def test_binary_operators_match_label_sets_one_to_one() -> None:
    store = _store({"x": [({"q": "a"}, [6]), ({"q": "b"}, [0])], "y": [({"q": "a"}, [3]), ({"q": "c"}, [1])]})
    assert _values(_at("x / y", store, 0)) == {"q=a": 2}
    assert _values(_at("sum(x) / sum(y)", store, 0)) == {"": 1.5}
    assert _values(_at("x > 1", store, 0)) == {"q=a": 6}
    assert _values(_at("x > bool 1", store, 0)) == {"q=a": 1, "q=b": 0}
    assert _values(_at("(x > 0) and y", store, 0)) == {"q=a": 6}
    assert _values(_at("x unless y", store, 0)) == {"q=b": 0}
    assert _values(_at('(sum(x{q="none"}) or vector(0)) / sum(y)', store, 0)) == {"": 0}


def test_matchers_select_by_equality_and_anchored_regex() -> None:
    store = _store({"r": [({"s": "200"}, [1]), ({"s": "503"}, [2]), ({"s": "5030"}, [4])]})
    assert _values(_at('sum(r{s=~"5.."})', store, 0)) == {"": 2}
    assert _values(_at('sum(r{s!~"5.."})', store, 0)) == {"": 5}
    assert _values(_at('sum(r{s!="200"})', store, 0)) == {"": 6}


def test_what_the_evaluator_does_not_implement_is_said_not_guessed() -> None:
    store = _store({"a": [({}, [1])]})
    with pytest.raises(promql.UnsupportedError, match="predict_linear"):
        _at("predict_linear(a[5m], 60)", store, 0)


def test_legends_fill_in_labels_as_grafana_does() -> None:
    assert legend("p95 {{type}} / {{ queue }}", {"type": "chat", "queue": "q"}) == "p95 chat / q"
    assert legend("", {"b": "2", "a": "1"}) == '{a="1", b="2"}'
