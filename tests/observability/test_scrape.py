"""Every metric the dashboard and the alert rules name exists in what a real Prometheus scraped from the
API and a worker (tests/observability/observed.py runs them), with the labels the queries and legends
use; Prometheus answers every expression and every panel, evaluates the rules, and the dashboard's
picture is drawn from its answers."""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools import REPO
from devtools.dashboard import panels
from devtools.dashboard.draw import Window, draw
from devtools.dashboard.panels import LEGEND_FIELD, expand
from devtools.stack.process import wait_until
from tests.observability.expressions import INTERVAL, all_expressions, metric_names, parse, selectors
from tests.observability.observed import Observed, observed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus is not installed (apt-get install prometheus; make system-deps)",
    ),
]

# Sampled only by a worker whose pipelines run on CUDA: this worker has none.
DEVICE_MEMORY = "llmb_device_memory_bytes"
ALERTS = ("LLMBQueueBacklog", "LLMBJobFailureRatio", "LLMBQueueWithoutWorker", "LLMBApiErrorRatio")
DRAW_S = 60  # drawing asks Prometheus a few dozen range queries: seconds, even on a loaded machine


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    with observed(tmp_path_factory.mktemp("observed")) as found:
        yield found


def _without_cuda(scraped: Observed, panel: panels.Panel) -> bool:
    return DEVICE_MEMORY in panel.targets[0].expr and not scraped.cuda


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_every_metric_named_is_in_the_real_scrape(scraped: Observed, where: str, expr: str) -> None:
    missing = {name for name, _ in metric_names(expr) if name not in scraped.series}
    if not scraped.cuda:
        # The one allowed absence: device memory is sampled on CUDA workers only, and this one has none.
        missing.discard(DEVICE_MEMORY)
    assert not missing, f"{where} names {sorted(missing)}, which no scrape exposes"


def test_device_memory_is_absent_only_for_want_of_cuda(scraped: Observed) -> None:
    assert (DEVICE_MEMORY in scraped.series) == scraped.cuda


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_ranges_are_taken_over_counters_and_histograms_never_gauges(
    scraped: Observed, where: str, expr: str
) -> None:
    for name, ranged in metric_names(expr):
        kind = scraped.kind(name)
        if ranged and kind is not None:
            assert kind in ("counter", "histogram"), f"{where}: rate() over {name}, a {kind}"


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_matchers_name_labels_the_metric_has(scraped: Observed, where: str, expr: str) -> None:
    for selector, _ in selectors(parse(expr)):
        series = scraped.series.get(selector.name, [])
        names = {k for labels in series for k in labels}
        for matcher in selector.matchers.matchers:
            assert not series or matcher.name in names, (
                f"{where}: {selector.name} has no label {matcher.name}"
            )


def _readme_metrics() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Operating it", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(llmb_\w+)`", section, re.MULTILINE))


def test_the_readme_metrics_table_names_exactly_what_the_services_expose(scraped: Observed) -> None:
    exposed = {scraped.family(name) for name in scraped.series if name.startswith("llmb_")}
    documented = _readme_metrics()
    assert documented - exposed <= ({DEVICE_MEMORY} if not scraped.cuda else set())
    assert exposed <= documented, sorted(exposed - documented)


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_prometheus_itself_evaluates_every_expression(scraped: Observed, where: str, expr: str) -> None:
    answer = scraped.server.query(expr)
    assert answer["status"] == "success", f"{where}: {answer.get('error')}"


# Labels a series may lack: Prometheus drops a label whose value is empty, and a job that ended without
# an error (succeeded, or canceled by its client) is exported, from the start at 0, with error_code "".
MAY_BE_EMPTY = {"error_code"}


@pytest.mark.parametrize("panel", panels.load(), ids=lambda p: f"{p.id}-{p.title}")
def test_prometheus_has_data_for_every_panel_with_the_labels_its_legend_names(
    scraped: Observed, panel: panels.Panel
) -> None:
    answers = [
        (target, scraped.server.query(expand(target.expr, interval=INTERVAL))["data"]["result"])
        for target in panel.targets
    ]
    if _without_cuda(scraped, panel):
        assert [result for _, result in answers] == [[]]
        return
    assert any(result for _, result in answers), (
        f"panel {panel.id} {panel.title!r}: Prometheus answers no series"
    )
    for target, result in answers:
        wanted = set(LEGEND_FIELD.findall(target.legend))
        assert all(wanted <= set(series["metric"]) | MAY_BE_EMPTY for series in result), (
            target.legend,
            result,
        )


def _rule_health(scraped: Observed) -> dict[str, str]:
    """Each rule's health once every rule was evaluated (`unknown` before its first evaluation)."""

    def evaluated() -> dict[str, str] | None:
        groups = scraped.server.http.get("/api/v1/rules").json()["data"]["groups"]
        health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
        return health if health and "unknown" not in health.values() else None

    return wait_until(evaluated, timeout=30, what="every rule evaluated")


def test_prometheus_evaluates_the_alert_rules_without_error(scraped: Observed) -> None:
    assert _rule_health(scraped) == dict.fromkeys(ALERTS, "ok")


def test_the_dashboard_picture_is_drawn_from_prometheus_answers(scraped: Observed, tmp_path: Path) -> None:
    out = tmp_path / "dashboard.png"
    window = Window(scraped.started, time.time(), step=1.0, interval=INTERVAL)
    began = time.monotonic()
    drawn = draw(panels.load(), scraped.server, out, title="test", window=window)
    assert time.monotonic() - began < DRAW_S
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.width > 1000
    for panel in panels.load():
        finite = [y for _, _, ys in drawn[panel.id] for y in ys if not math.isnan(y)]
        assert bool(finite) != _without_cuda(scraped, panel), f"panel {panel.id} {panel.title!r}"
