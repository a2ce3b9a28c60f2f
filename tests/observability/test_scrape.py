"""Every metric the dashboard and the alert rules name exists in a real scrape of the API and a worker.

The real stack (Redis, the API under gunicorn, a Celery worker with the small models and LLMB_METRICS_PORT)
runs jobs of every type, a job that fails, and requests refused for their key and for a limit, between two
scrapes of both /metrics endpoints, so every histogram and counter has series and an increase to rate.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from devtools import REPO
from devtools.dashboard import load, panels, promql, stack
from devtools.dashboard.panels import LEGEND_FIELD, expand
from devtools.dashboard.series import Store, scrape
from tests.observability import prometheus
from tests.observability.expressions import INTERVAL, all_expressions, family, metric_names
from worker.device import pick_device

pytestmark = pytest.mark.slow

ADMIN_KEY = "llmb_observadmin0_" + "k" * 43
# Sampled only by a worker whose pipelines run on CUDA: this worker has none.
DEVICE_MEMORY = "llmb_device_memory_bytes"
# What the worker adds to its counters once a job's batch ended.
WORKER_TOTALS = ("llmb_generated_tokens_total", "llmb_images_generated_total", "llmb_embeddings_total")
FINISHED = "llmb_jobs_finished_total"
SETTLE_S = 60


@dataclass(frozen=True)
class Scraped:
    """Two scrapes of the API and the worker, with jobs of every kind run before each, and a real
    Prometheus (where installed) that scraped the same stack all along."""

    store: Store
    cuda: bool
    server: prometheus.Prometheus | None


def _activity(users: dict[str, httpx.Client]) -> None:
    """Refusals for an unknown key and for a limit, one job of each type to its end, one that fails."""
    assert users["unknown"].get("/v1/jobs").status_code == 401
    statuses = {load.submit(users["limited"], "embed", load.JOBS["embed"]).status_code for _ in range(3)}
    assert 429 in statuses
    for kind, input_ in load.JOBS.items():
        assert load.submit(users["user"], kind, input_, wait=load.WAIT).json()["status"] == "succeeded"
    failed = load.submit(users["user"], "embed", load.TOO_LONG, wait=load.WAIT).json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "invalid_input")


def _totals(store: Store, names: tuple[str, ...]) -> dict[str, float]:
    at = store.times[-1] if store.times else 0
    return {name: sum(store.latest(name, at, lookback=1).values()) for name in names}


def _worker_totals(client: httpx.Client, url: str) -> dict[str, float]:
    store = Store()
    store.add_exposition(client.get(url).text, instance="worker", at=0)
    return _totals(store, WORKER_TOTALS)


def _settled(client: httpx.Client, url: str, before: dict[str, float]) -> None:
    """Wait until the worker counted the jobs just run (it counts them as their batch ends)."""
    deadline = time.monotonic() + SETTLE_S
    while (now := _worker_totals(client, url)) and any(now[n] <= before.get(n, 0) for n in WORKER_TOTALS):
        assert time.monotonic() < deadline, f"the worker's counters stayed at {now}"
        time.sleep(0.2)


def _rounds(
    users: dict[str, httpx.Client], targets: dict[str, str], server: prometheus.Prometheus | None
) -> Store:
    """Two rounds of activity, each followed by our scrape and by Prometheus' (it has seen what we saw)."""
    store = Store()
    with httpx.Client(timeout=10) as client:
        for _ in range(2):
            before = _worker_totals(client, targets["worker"])
            _activity(users)
            _settled(client, targets["worker"], before)
            scrape(client, store, targets)
            for name, total in _totals(store, (*WORKER_TOTALS, FINISHED)).items():
                if server is not None:
                    server.wait_for(f"sum({name})", total)
    return store


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    root = tmp_path_factory.mktemp("observed")
    observed = stack.start(
        root, models=stack.build_models(), api_env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN_KEY}
    )
    targets = {"api": f"{observed.api_url}/metrics", "worker": observed.worker_metrics_url}
    server = None
    try:
        keys = {**load.create_keys(observed.api_url, ADMIN_KEY), "unknown": load.UNKNOWN_KEY}
        users = {name: load.http_client(observed.api_url, key) for name, key in keys.items()}
        try:
            if prometheus.BINARY is not None:
                server = prometheus.start(root, targets)
            store = _rounds(users, targets, server)
        finally:
            for user in users.values():
                user.close()
        yield Scraped(store, cuda=pick_device("auto") == "cuda", server=server)
    finally:
        if server is not None:
            server.stop()
        observed.stack.stop()


def _exposed(store: Store) -> set[str]:
    return {family(name, store.types) for name in store.samples}


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_every_metric_named_is_in_the_real_scrape(scraped: Scraped, where: str, expr: str) -> None:
    missing = {name for name, _ in metric_names(expr) if name not in scraped.store.samples}
    if not scraped.cuda:
        # The one allowed absence: device memory is sampled on CUDA workers only, and this one has none.
        missing.discard(DEVICE_MEMORY)
    assert not missing, f"{where} names {sorted(missing)}, which no scrape exposes"


def test_device_memory_is_absent_only_for_want_of_cuda(scraped: Scraped) -> None:
    assert (DEVICE_MEMORY in scraped.store.samples) == scraped.cuda


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_ranges_are_taken_over_counters_and_histograms_never_gauges(
    scraped: Scraped, where: str, expr: str
) -> None:
    for name, ranged in metric_names(expr):
        kind = scraped.store.types.get(name)
        if ranged and kind is not None:
            assert kind in ("counter", "histogram"), f"{where}: rate() over {name}, a {kind}"


@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_matchers_name_labels_the_metric_has(scraped: Scraped, where: str, expr: str) -> None:
    for selector, _ in promql.selectors(promql.parse(expr)):
        series = scraped.store.samples.get(selector.name, {})
        names = {k for labels in series for k, _ in labels}
        for matcher in selector.matchers.matchers:
            assert not series or matcher.name in names, (
                f"{where}: {selector.name} has no label {matcher.name}"
            )


@pytest.mark.parametrize("panel", panels.load(), ids=lambda p: f"{p.id}-{p.title}")
def test_every_panel_draws_from_the_real_scrape_with_the_labels_its_legend_names(
    scraped: Scraped, panel: panels.Panel
) -> None:
    at = scraped.store.times[-1]
    results = [
        (target, promql.evaluate(promql.parse(expand(target.expr, interval=INTERVAL)), scraped.store, at))
        for target in panel.targets
    ]
    drawn = [r for _, r in results if isinstance(r, dict) and any(not math.isnan(v) for v in r.values())]
    if DEVICE_MEMORY in panel.targets[0].expr and not scraped.cuda:
        assert drawn == []
        return
    assert drawn, f"panel {panel.id} {panel.title!r} has no data"
    for target, result in results:
        wanted = set(LEGEND_FIELD.findall(target.legend))
        assert isinstance(result, dict)
        assert all(wanted <= {k for k, _ in labels} for labels in result), (target.legend, list(result))


def _readme_metrics() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Operating it", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(llmb_\w+)`", section, re.MULTILINE))


def test_the_readme_metrics_table_names_exactly_what_the_services_expose(scraped: Scraped) -> None:
    exposed = {name for name in _exposed(scraped.store) if name.startswith("llmb_")}
    documented = _readme_metrics()
    assert documented - exposed <= ({DEVICE_MEMORY} if not scraped.cuda else set())
    assert exposed <= documented, sorted(exposed - documented)


needs_prometheus = pytest.mark.skipif(
    prometheus.BINARY is None,
    reason="prometheus is not installed (apt-get install prometheus; make system-deps)",
)


def _server(scraped: Scraped) -> prometheus.Prometheus:
    assert scraped.server is not None
    return scraped.server


@needs_prometheus
@pytest.mark.parametrize(("where", "expr"), all_expressions(), ids=[w for w, _ in all_expressions()])
def test_prometheus_itself_evaluates_every_expression(scraped: Scraped, where: str, expr: str) -> None:
    answer = _server(scraped).query(expr)
    assert answer["status"] == "success", f"{where}: {answer.get('error')}"


@needs_prometheus
@pytest.mark.parametrize("panel", panels.load(), ids=lambda p: f"{p.id}-{p.title}")
def test_prometheus_itself_has_data_for_every_panel(scraped: Scraped, panel: panels.Panel) -> None:
    results = [
        _server(scraped).query(expand(t.expr, interval=INTERVAL))["data"]["result"] for t in panel.targets
    ]
    if DEVICE_MEMORY in panel.targets[0].expr and not scraped.cuda:
        assert results == [[]]
        return
    assert any(results), f"panel {panel.id} {panel.title!r}: Prometheus answers no series"


def _rule_health(server: prometheus.Prometheus) -> dict[str, str]:
    """Each rule's health once every rule was evaluated (`unknown` before its first evaluation)."""
    deadline = time.monotonic() + 30
    while True:
        groups = server.http.get("/api/v1/rules").json()["data"]["groups"]
        health = {r["name"]: r["health"] for g in groups for r in g["rules"]}
        if (health and "unknown" not in health.values()) or time.monotonic() > deadline:
            return health
        time.sleep(0.2)


@needs_prometheus
def test_prometheus_evaluates_the_alert_rules_without_error(scraped: Scraped) -> None:
    names = ("LLMBQueueBacklog", "LLMBJobFailureRatio", "LLMBQueueWithoutWorker", "LLMBApiErrorRatio")
    assert _rule_health(_server(scraped)) == dict.fromkeys(names, "ok")
