"""GET /metrics: the API's Prometheus metrics (prometheus-client), and the jobs' and queues' read from Redis.

Request metrics are each process's own; under gunicorn they go through prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, made fresh by api/gunicorn_conf.py), so a scrape of any
worker process sums them all. Job ends, durations and queue loads are counted in Redis by the store's
scripts and read at scrape time in one round trip: every API replica reports the same totals (take
max() across replicas, not sum()).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from blinker import NamedSignal
from flask import Blueprint, Flask, Response
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from api import signals
from api.auth import PUBLIC
from api.operations import operation
from api.request_metrics import LATENCY, REQUESTS, RequestMetrics
from api.services import services
from api.spec import Answer
from shared.store import HEARTBEAT_TTL_S
from shared.store.answers import Histogram as StoredHistogram
from shared.store.answers import Stats
from shared.store.commands import DURATION_BUCKETS
from shared.vocabulary import JOB_ERROR_CODES, ErrorCode, JobStatus, JobType

bp = Blueprint("metrics", __name__)
disable_created_metrics()  # no `_created` samples: Prometheus does not need them and they double a scrape

SUBMITTED = Counter("llmb_jobs_submitted_total", "jobs accepted", ["type"], registry=None)
LONG_WAITS = Gauge(
    "llmb_long_waits_in_flight", "requests long-waiting on a job", registry=None, multiprocess_mode="livesum"
)
STREAMS = Gauge(
    "llmb_event_streams_open", "Server-Sent Event streams open", registry=None, multiprocess_mode="livesum"
)
AUTH_FAILURES = Counter(
    "llmb_auth_failures_total", "requests refused for their key", ["reason"], registry=None
)
REFUSALS = Counter("llmb_limit_refusals_total", "submissions refused by a limit", ["reason"], registry=None)
OWN = (REQUESTS, LATENCY, SUBMITTED, LONG_WAITS, STREAMS, AUTH_FAILURES, REFUSALS)
DURATIONS = (
    ("llmb_job_queue_wait_seconds", "waits", "job waits, created to started"),
    ("llmb_job_run_seconds", "runs", "job runs, started to finished"),
)
LOADS = (("waiting", "jobs waiting"), ("running", "jobs running"), ("workers", "live workers"))
# How jobs end (status, error code): each is exported from the start, at 0, so `rate()` sees it.
ENDS = (
    (JobStatus.SUCCEEDED, ""),
    (JobStatus.CANCELED, ""),
    (JobStatus.CANCELED, ErrorCode.DEADLINE.value),
    *sorted((JobStatus.FAILED, c.value) for c in JOB_ERROR_CODES if c != ErrorCode.DEADLINE),
)
REFUSAL_REASONS = (
    ErrorCode.RATE_LIMITED,
    ErrorCode.TOO_MANY_ACTIVE_JOBS,
    ErrorCode.TOO_MANY_STREAMS,
    ErrorCode.QUEUE_FULL,
    ErrorCode.TOO_MANY_WAITING_JOBS,
    ErrorCode.BUDGET_EXCEEDED,
)
AUTH_REASONS = ("missing", "malformed", "invalid", "revoked", "expired", "forbidden")
USAGE = (
    ("jobs", "jobs", "jobs ended on a worker, with their usage"),
    ("device_s", "device_seconds", "jobs' shares of their batches' device time, seconds"),
    ("prompt_tokens", "prompt_tokens", "chat prompts' and embed inputs' tokens"),
    ("completion_tokens", "completion_tokens", "chat replies' tokens"),
    ("images", "images", "images made"),
    ("pixel_steps", "pixel_steps", "width x height x steps, summed over images"),
)


class StoreCollector:
    """The metrics the store keeps in Redis, as Prometheus families."""

    def __init__(self, stats: Stats, *, tenants: int = 0) -> None:
        self.stats = stats
        self.tenants = tenants  # the usage counters' tenant label: the top N by device time, the rest "other"

    def collect(self) -> Iterator[Metric]:
        """Job ends, job durations and queue loads."""
        ended = CounterMetricFamily(
            "llmb_jobs_finished", "jobs that ended", labels=["type", "status", "error_code"]
        )
        counts = {(t.value, s.value, c): 0 for t in JobType for s, c in ENDS}
        counts.update(self.stats.finished)
        for (job_type, status, code), count in sorted(counts.items()):
            ended.add_metric([job_type, status, code], count)
        yield ended
        for name, attribute, text in DURATIONS:
            family = HistogramMetricFamily(name, text, labels=["type"])
            for job_type, histogram in sorted(getattr(self.stats, attribute).items()):
                family.add_metric([job_type], _cumulative(histogram), histogram.total)
            yield family
        for name, text in LOADS:
            gauge = GaugeMetricFamily(f"llmb_queue_{name}", f"per queue: {text}", labels=["queue"])
            for queue, load in sorted(self.stats.loads.items()):
                gauge.add_metric([queue], getattr(load, name))
            yield gauge
        yield from self._usage()
        alerts = CounterMetricFamily(
            "llmb_budget_alerts", "budgets that passed 80 % of a cap in a period", labels=["scope", "measure"]
        )
        alerted = {(scope, measure): 0 for scope in ("key", "tenant") for measure in ("device_s", "tokens")}
        alerted.update(self.stats.budget_alerts)
        for (scope, measure), count in sorted(alerted.items()):
            alerts.add_metric([scope, measure], count)
        yield alerts

    def _usage(self) -> Iterator[Metric]:
        """The usage counters by job type, and by tenant when the operator asked (bounded)."""
        named = _top_tenants(self.stats.usage, self.tenants)
        # Every type's counters start at 0 (without the tenant label), so each series exists from the start.
        summed = {(q, "", m): 0.0 for q in self.stats.loads for m, _, _ in USAGE if not self.tenants}
        for (job_type, tenant, measure), amount in self.stats.usage.items():
            label = (tenant if tenant in named else "other") if self.tenants else ""
            summed[job_type, label, measure] = summed.get((job_type, label, measure), 0.0) + amount
        labels = ["type", "tenant"] if self.tenants else ["type"]
        for measure, name, text in USAGE:
            family = CounterMetricFamily(f"llmb_usage_{name}", text, labels=labels)
            for (job_type, tenant, found), amount in sorted(summed.items()):
                if found == measure:
                    family.add_metric([job_type, tenant][: len(labels)], amount)
            yield family


def _top_tenants(usage: dict[tuple[str, str, str], float], count: int) -> set[str]:
    """The `count` tenants with the most device time."""
    device: dict[str, float] = {}
    for (_, tenant, measure), amount in usage.items():
        if measure == "device_s":
            device[tenant] = device.get(tenant, 0.0) + amount
    return set(sorted(device, key=lambda t: (-device[t], t))[:count])


def _cumulative(histogram: StoredHistogram) -> list[tuple[str, float]]:
    out, running = [], 0
    for bound in DURATION_BUCKETS:
        running += histogram.buckets.get(str(bound), 0)
        out.append((str(bound), float(running)))
    out.append(("+Inf", float(histogram.count)))
    return out


@operation(
    bp.get("/metrics"),
    {200: Answer("Prometheus text exposition", {"text/plain": None})},
    scopes=PUBLIC,
    problems=(503,),
)
def metrics() -> Response:
    """Prometheus metrics of this API and of the jobs and queues it serves; 503 without Redis."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for metric in OWN:
            registry.register(metric)
    svc = services()
    stats = svc.store.stats(worker_ttl_s=HEARTBEAT_TTL_S)
    registry.register(StoreCollector(stats, tenants=svc.settings.metrics_tenants))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


# What the business code announces (api/signals.py), counted; made once, so connecting again is a no-op.
_RECEIVERS: dict[NamedSignal, Callable[..., None]] = {
    signals.job_submitted: lambda job_type, **_: SUBMITTED.labels(job_type).inc(),
    signals.limit_refused: lambda reason, **_: REFUSALS.labels(reason).inc(),
    signals.auth_refused: lambda reason, **_: AUTH_FAILURES.labels(reason).inc(),
    signals.wait_began: lambda _, **__: LONG_WAITS.inc(),
    signals.wait_ended: lambda _, **__: LONG_WAITS.dec(),
    signals.stream_opened: lambda _, **__: STREAMS.inc(),
    signals.stream_closed: lambda _, **__: STREAMS.dec(),
}


def register(app: Flask) -> None:
    """Count every request, and answer GET /metrics."""
    for job_type in JobType:
        SUBMITTED.labels(job_type.value)
    for reason in REFUSAL_REASONS:
        REFUSALS.labels(reason.value)
    for failure in AUTH_REASONS:
        AUTH_FAILURES.labels(failure)
    for signal, receiver in _RECEIVERS.items():
        signal.connect(receiver, weak=False)
    app.wsgi_app = RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(bp)
