"""docs/scaling.md: the command, the parameters with their sources, the results tables and what they show."""

from __future__ import annotations

from dataclasses import dataclass

from devtools.scaling.api import ApiLoad, ApiTrace
from devtools.scaling.params import Manifests
from devtools.scaling.replicas import HPA_SYNC_S, TOLERANCE, Rules
from devtools.scaling.results import SIGNAL_NAMES, SIGNALS, Results, Scenario, Summary
from devtools.scaling.workload import BurstSpec


@dataclass(frozen=True)
class Report:
    """Everything one `make scaling-sim` run found, for one overlay."""

    command: str
    overlay: str
    manifests: Manifests
    main: Results
    contrasts: list[Results]
    api_variants: list[tuple[str, ApiLoad, ApiTrace]]
    elapsed_s: float


def duration(seconds: float) -> str:
    """Seconds as "42 s" or "41.4 min"."""
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


def rules_text(rules: Rules) -> str:
    """An HPA direction in one phrase: window, policies and how they combine."""
    policies = ", ".join(
        f"{p.value}{' %' if p.kind == 'Percent' else ' pods'}/{p.period_s} s" for p in rules.policies
    )
    pick = {"Max": "the larger change", "Min": "the smaller change", "Disabled": "disabled"}[rules.select]
    return f"window {rules.window_s} s; {policies} ({pick})"


def burst_text(spec: BurstSpec) -> str:
    """A workload in one phrase."""
    return (
        f"{spec.jobs:,} jobs over {duration(spec.over_s)} ({spec.arrivals}), service time gamma with mean "
        f"{spec.service_s:g} s and coefficient of variation {spec.service_cv:g}"
    )


Row = tuple[str, str, str]


def worker_rows(manifests: Manifests) -> list[Row]:
    """(parameter, value, source) for the worker queue's ScaledObject, Deployment and settings."""
    w, src = manifests.worker, manifests.sources
    return [
        ("KEDA pollingInterval", f"{w.polling_s} s", src["pollingInterval"]),
        ("KEDA cooldownPeriod", f"{w.cooldown_s} s", src["cooldownPeriod"]),
        ("KEDA min/maxReplicaCount", f"{w.min_replicas} / {w.max_replicas}",
         f"{src['minReplicaCount']}; {src['maxReplicaCount']}"),
        ("metrics-api targetValue (metricType)", f"{w.target:g} ({w.metric_type})", src["targetValue"]),
        ("metrics-api activationTargetValue", f"{w.activation:g}", src["activationTargetValue"]),
        ("worker HPA scale-up", rules_text(w.behavior.up), src["behavior"]),
        ("worker HPA scale-down", rules_text(w.behavior.down), src["behavior"]),
        ("worker terminationGracePeriodSeconds", f"{w.grace_s} s", src["terminationGracePeriodSeconds"]),
        ("LLMB_JOB_TIME_LIMIT_S (hard limit = +60 s)", f"{w.job_limit_s} s ({w.hard_limit_s} s)",
         src["LLMB_JOB_TIME_LIMIT_S"]),
        ("LLMB_LEASE_TTL_S (a killed job waits this to be requeued)", f"{w.lease_ttl_s} s",
         src["LLMB_LEASE_TTL_S"]),
        ("LLMB_MAX_ATTEMPTS", f"{w.max_attempts}", src["LLMB_MAX_ATTEMPTS"]),
    ]  # fmt: skip


def api_parameter_rows(manifests: Manifests) -> list[Row]:
    """(parameter, value, source) for the API's HPA and Deployment, and the HPA controller's defaults."""
    a, src = manifests.api, manifests.sources
    return [
        ("API HPA min/maxReplicas", f"{a.min_replicas} / {a.max_replicas}",
         f"{src['api minReplicas']}; {src['api maxReplicas']}"),
        ("API HPA CPU averageUtilization", f"{a.target_pct:g} %", src["api averageUtilization"]),
        ("API HPA scale-up / scale-down", f"{rules_text(a.behavior.up)} / {rules_text(a.behavior.down)}",
         src["api behavior"]),
        ("API CPU request / limit", f"{a.cpu_request:g} / {a.cpu_limit or 'none'} cores",
         f"{src['api cpu request']}; {src['api cpu limit']}"),
        ("HPA sync period, tolerance", f"{HPA_SYNC_S} s, {TOLERANCE:.0%}",
         "kube-controller-manager defaults"),
    ]  # fmt: skip


def assumption_rows(scenario: Scenario) -> list[Row]:
    """(parameter, value, source) for what no manifest states: the workload and the latencies."""
    b, api = scenario.burst, scenario.api
    return [
        ("burst", f"{b.jobs:,} jobs over {b.over_s:g} s, {b.arrivals} arrivals, seed {scenario.seed}",
         "options --jobs --over-s --arrivals --seed"),
        ("service time of one job", f"gamma, mean {b.service_s:g} s, CV {b.service_cv:g}",
         "options --service-s --service-cv (assumed: a 512x512, 20-step image, the API's defaults, "
         "takes seconds on one GPU; measure yours)"),
        ("worker pod start latency", f"uniform {scenario.start_s[0]:g}–{scenario.start_s[1]:g} s",
         "option --start-s (assumed: image pull + pipeline load + warm-up)"),
        ("API CPU per request", f"{api.cost_ms:g} ms",
         "option --cost-ms (assumed; docs/BENCHMARKS.md: ~1,060 POST/s on 2 shared cores)"),
        ("client re-issues its long-wait", f"every {api.poll_s:g} s", "option --poll-s (`?wait=60` cap)"),
        ("API pod start latency", f"{api.start_s:g} s", "option --api-start-s (assumed)"),
    ]  # fmt: skip


def parameter_rows(report: Report) -> list[Row]:
    """(parameter, value, source) for every number the simulation used."""
    m = report.manifests
    return worker_rows(m) + api_parameter_rows(m) + assumption_rows(report.main.scenario)


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def result_rows(summaries: list[Summary]) -> list[list[str]]:
    """The per-signal results as metric rows (one column per signal)."""
    metrics = [
        ("queue wait p50 / p95 / max",
         lambda s: f"{duration(s.wait_p50_s)} / {duration(s.wait_p95_s)} / {duration(s.wait_max_s)}"),
        ("worker-minutes (pods from creation to exit)", lambda s: f"{s.worker_min:,.0f}"),
        ("peak replicas", lambda s: f"{s.peak_replicas}"),
        ("time to drain (last job ends)", lambda s: duration(s.drain_s)),
        ("back to minimum replicas, no pod left stopping", lambda s: duration(s.idle_at_s)),
        ("scale-in decisions that stopped a busy worker (busy pods)",
         lambda s: f"{s.busy_decisions} ({s.busy_stops})"),
        ("scale-to-zero while a job ran", lambda s: f"{s.zero_while_busy}"),
        ("jobs interrupted (running at SIGKILL) / failed at the attempt cap",
         lambda s: f"{s.interrupted} / {s.failed}"),
        ("jobs that ended exactly once", lambda s: f"{s.ended_once:,} of {s.jobs:,}"),
    ]  # fmt: skip
    return [[name, *(fn(s) for s in summaries)] for name, fn in metrics]


def contrast_rows(results: list[Results]) -> list[list[str]]:
    """One row per scenario and signal, for the comparison table."""
    rows = []
    for r in results:
        for signal in SIGNALS:
            s = r.summary(signal)
            rows.append([
                r.scenario.name, SIGNAL_NAMES[signal],
                f"{duration(s.wait_p50_s)} / {duration(s.wait_p95_s)} / {duration(s.wait_max_s)}",
                f"{s.worker_min:,.0f}", duration(s.drain_s), f"{s.busy_decisions} ({s.busy_stops})",
                f"{s.zero_while_busy}", f"{s.interrupted} / {s.failed}", f"{s.ended_once:,} of {s.jobs:,}",
            ])  # fmt: skip
    return rows


def api_rows(variants: list[tuple[str, ApiLoad, ApiTrace]]) -> list[list[str]]:
    """One row per client behaviour: peak requests, CPU and replicas, and when the HPA first added a pod."""
    rows = []
    for name, _, trace in variants:
        first_up = next((t for t, r in enumerate(trace.replicas) if r > trace.replicas[0]), None)
        rows.append([
            name, f"{max(trace.rps):,.0f}", f"{max(trace.utilization):,.0f} %",
            f"{trace.replicas[0]} → {max(trace.replicas)}",
            "never" if first_up is None else duration(first_up),
        ])  # fmt: skip
    return rows
