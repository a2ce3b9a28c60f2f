"""The real stack (Redis, the API under gunicorn, a Celery worker with the small models and
LLMB_METRICS_PORT) with a real Prometheus scraping both /metrics every second and evaluating the alert
rules, after two rounds of jobs of every type, a job that fails, and requests refused for their key and
for a limit: every histogram and counter has series and an increase to rate."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from devtools.dashboard import load, prometheus, stack
from devtools.dashboard.prometheus import Prometheus
from tests.fixtures.stacks import discard
from tests.observability.expressions import ALERTS, HISTOGRAM_PARTS
from worker.device import pick_device

ADMIN_KEY = "llmb_observadmin0_" + "k" * 43
# What the worker adds to its counters once a job's batch ended, and what the API counts as jobs end.
WORKER_TOTALS = ("llmb_generated_tokens_total", "llmb_images_generated_total", "llmb_embeddings_total")
FINISHED = "llmb_jobs_finished_total"
SETTLE_S = 60


@dataclass(frozen=True)
class Observed:
    """What Prometheus holds once both rounds were scraped: every series' labels by metric name, each
    family's declared type (Prometheus' metadata), and since when it scraped."""

    server: Prometheus
    series: dict[str, list[dict[str, str]]]
    types: dict[str, str]
    started: float
    cuda: bool

    def kind(self, name: str) -> str | None:
        """The declared type of the family a metric name belongs to (`x_bucket` is histogram `x`'s)."""
        if name in self.types:
            return self.types[name]
        for suffix in (*HISTOGRAM_PARTS, "_total"):
            if name.endswith(suffix) and name.removesuffix(suffix) in self.types:
                return self.types[name.removesuffix(suffix)]
        return None

    def family(self, name: str) -> str:
        """The name a metric is documented under: a histogram's parts are the histogram's."""
        for suffix in HISTOGRAM_PARTS:
            base = name.removesuffix(suffix)
            if base != name and self.types.get(base) == "histogram":
                return base
        return name


def _activity(users: dict[str, httpx.Client]) -> None:
    """Refusals for an unknown key and for a limit, one job of each type to its end, one that fails."""
    assert users["unknown"].get("/v1/jobs").status_code == 401
    statuses = {load.submit(users["limited"], "embed", load.JOBS["embed"]).status_code for _ in range(3)}
    assert 429 in statuses
    for kind, input_ in load.JOBS.items():
        assert load.submit(users["user"], kind, input_, wait=load.WAIT).json()["status"] == "succeeded"
    failed = load.submit(users["user"], "embed", load.TOO_LONG, wait=load.WAIT).json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "invalid_input")


def _rounds(users: dict[str, httpx.Client], server: Prometheus) -> None:
    """Two rounds of activity, each seen by Prometheus: the worker counted it (it counts a job as its
    batch ends) and both targets were scraped after that."""
    for _ in range(2):
        before = {name: server.value(f"sum({name})") for name in (*WORKER_TOTALS, FINISHED)}
        _activity(users)
        for name, value in before.items():
            server.wait_for(f"sum({name})", (0 if math.isnan(value) else value) + 1, timeout=SETTLE_S)
        server.wait_for("min(timestamp(up))", time.time(), timeout=SETTLE_S)


def _held(server: Prometheus) -> tuple[dict[str, list[dict[str, str]]], dict[str, str]]:
    """Every series' labels by metric name, and each family's type, as Prometheus has them."""
    found = server.http.get("/api/v1/series", params={"match[]": '{__name__=~".+"}'}).json()["data"]
    series: dict[str, list[dict[str, str]]] = {}
    for labels in found:
        series.setdefault(labels["__name__"], []).append(labels)
    metadata = server.http.get("/api/v1/metadata").json()["data"]
    return series, {name: entries[0]["type"] for name, entries in metadata.items()}


@contextmanager
def observed(root: Path) -> Iterator[Observed]:
    """The stack and Prometheus after both rounds; both stopped after."""
    api_env = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN_KEY}
    running = stack.start(root, models=stack.build_models(), api_env=api_env)
    try:
        started = time.time()
        server = prometheus.start(root, running.targets, rule_files=[ALERTS])
        try:
            keys = {**load.create_keys(running.api_url, ADMIN_KEY), "unknown": load.UNKNOWN_KEY}
            users = {name: load.http_client(running.api_url, key) for name, key in keys.items()}
            try:
                _rounds(users, server)
            finally:
                for user in users.values():
                    user.close()
            series, types = _held(server)
            yield Observed(server, series, types, started, cuda=pick_device("auto") == "cuda")
        finally:
            server.stop()
    finally:
        discard(running.stack)
