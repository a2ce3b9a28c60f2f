"""docs/scaling.md's prose: the model in brief, what the figures show, and the assembled document."""

from __future__ import annotations

from devtools.scaling.report import (
    Report,
    api_rows,
    burst_text,
    contrast_rows,
    duration,
    parameter_rows,
    result_rows,
    table,
)
from devtools.scaling.results import SIGNAL_NAMES, SIGNALS, Results

MODEL = """\
- **Queue.** FIFO. A job *waits* from arrival until a ready worker takes it, then *runs* until it ends.
  A worker is modelled as one job at a time, its device's pace (the worker itself claims a job per free
  thread and batches them, which is not modelled: below); with late acks a running job has left the
  Redis list. Service times are capped at LLMB_JOB_TIME_LIMIT_S, where the worker fails the job.
- **KEDA.** Every `pollingInterval` it reads the metric; the trigger is active while metric >
  `activationTargetValue`. From 0 it sets 1 replica; it sets 0 only when the trigger has been inactive for
  `cooldownPeriod`. Between 1 and `maxReplicaCount` the HPA KEDA creates acts every 15 s: desired =
  ceil(metric / `targetValue`) (AverageValue; no change within the 10 % tolerance), then the stabilization
  windows (max over the scale-down window, min over the scale-up one), then the rate policies of
  `behavior`, clamped to [max(1, `minReplicaCount`), `maxReplicaCount`].
- **Pods.** A new pod is ready after the start latency. Scale-in picks not-ready pods first, then the most
  recently ready, as the ReplicaSet ranks them: it does not know which workers are busy. A stopped worker
  takes no new job and finishes its current one (Celery's warm shutdown); if the job still runs at
  `terminationGracePeriodSeconds` the pod is killed, the job's lease lapses after LLMB_LEASE_TTL_S and it
  is requeued (or fails with `worker_lost` once it has started LLMB_MAX_ATTEMPTS times). Worker-minutes
  count every pod from creation to exit, start-up and stopping included.
- **The two signals.** The design reads `queues.image.load` = waiting + running from `GET /v1/queues` (a
  killed job counts as running until its lease lapses). The alternative is a KEDA `redis` list scaler on
  the `image` list, whose length counts only waiting jobs, with the same target and activation values.
- **API.** Requests/s = submissions + one re-issued long-wait (`?wait=60`) per unfinished job per client
  re-wait period + one result fetch per finished job. CPU = requests x cost per request, capped at the CPU
  limit of each ready pod; utilization = its 15-s mean / CPU request; desired = ceil(ready pods x
  utilization / target), with the tolerance, the HPA's behavior and min/max.
- **Not modelled.** Batching compatible image jobs on one GPU (it would shorten every drain), KEDA's
  `fallback`, node provisioning (cluster autoscaler), network and Redis latency."""


def _burst_paragraphs(report: Report) -> list[str]:
    """What the main burst shows: capacity, and whether the signals differ there."""
    w, spec = report.manifests.worker, report.main.scenario.burst
    d, q = (report.main.summary(s) for s in SIGNALS)
    rate = w.max_replicas * 60 / spec.service_s
    asks = (
        f"Both signals ask for {d.peak_replicas} replicas {duration(d.peak_at_s)} after the first job arrives"
        if (d.peak_replicas, d.peak_at_s) == (q.peak_replicas, q.peak_at_s)
        else f"The design asks for {d.peak_replicas} replicas {duration(d.peak_at_s)} after the first job "
        f"arrives, the waiting-only signal for {q.peak_replicas} after {duration(q.peak_at_s)}"
    )
    text = [
        f"**The burst is bound by `maxReplicaCount`, not by the signal.** {w.max_replicas} workers at one "
        f"job each finish about {rate:,.0f} jobs a minute, so {spec.jobs:,} jobs of ~{spec.service_s:g} s "
        f"drain in {duration(d.drain_s)} and the last one waits {duration(d.wait_max_s)} to start. {asks}; "
        "the pods then need their start latency before they take jobs."
    ]
    alike = (d.busy_stops, d.zero_while_busy, round(d.wait_p95_s))
    if alike == (q.busy_stops, q.zero_while_busy, round(q.wait_p95_s)):
        text.append(
            "In this burst the two signals behave alike: the list stays non-empty until the last few jobs "
            f"start, and those run about {spec.service_s:g} s, far less than the "
            f"{w.behavior.down.window_s} s scale-down window and the {w.cooldown_s} s cooldown, so neither "
            "scales in under a running job."
        )
    else:
        text.append(
            f"In this burst the signals differ: the waiting-only scaler stopped {q.busy_stops} busy pods "
            f"and scaled to zero under a running job {q.zero_while_busy} times (design: {d.busy_stops} and "
            f"{d.zero_while_busy}); p95 wait {duration(q.wait_p95_s)} against {duration(d.wait_p95_s)}."
        )
    return text


def _what_if(report: Report, field: str) -> Results | None:
    """The contrast scenario that replaces one manifest value, if the run has one."""
    return next((r for r in report.contrasts if field in dict(r.scenario.what_if)), None)


def _contrast_paragraphs(report: Report) -> list[str]:
    """What the slower scenarios show about the waiting-only signal, the grace period and the target."""
    w, slow = report.manifests.worker, report.contrasts[0]
    d, q = (slow.summary(s) for s in SIGNALS)
    spec = slow.scenario.burst
    longer = "longer" if spec.service_s > w.cooldown_s else "not longer"
    text = [
        f"**Where the signals differ is slow traffic** ({spec.jobs} jobs over {duration(spec.over_s)}, "
        f"~{duration(spec.service_s)} each, {longer} than the {w.cooldown_s} s cooldown): a free worker "
        "takes each job as it arrives, so the list reads zero while jobs run. Waiting-only, the HPA shrinks "
        "towards one replica under running jobs, KEDA may scale to zero under them, and new jobs wait for "
        f"pods again: p50/p95 wait {duration(q.wait_p50_s)} / {duration(q.wait_p95_s)} against "
        f"{duration(d.wait_p50_s)} / {duration(d.wait_p95_s)}, {q.busy_stops} busy pods stopped against "
        f"{d.busy_stops}, scale-to-zero under a running job {q.zero_while_busy} times against "
        f"{d.zero_while_busy}."
    ]
    interrupted = sum(r.summary(s).interrupted for r in [report.main, slow] for s in SIGNALS)
    safe = w.grace_s >= w.hard_limit_s
    verdict = "so a stopped worker always finishes its job" if safe else "so a long job can be killed"
    grace = _what_if(report, "grace_s")
    text.append(
        f"**Interruptions.** The longest a job can run is the hard limit, LLMB_JOB_TIME_LIMIT_S + 60 = "
        f"{w.hard_limit_s} s; `terminationGracePeriodSeconds` is {w.grace_s} s, {verdict}: {interrupted} "
        "jobs were interrupted in the runs above at the manifests' values."
        + (f" {_grace_sentence(grace)}" if grace else "")
    )
    if d.busy_stops:
        text.append(_design_busy_sentence(report, d.busy_stops))
    return text


def _design_busy_sentence(report: Report, stops: int) -> str:
    """Why the design signal still stopped busy workers, and what targetValue 1 changes."""
    target = report.manifests.worker.target
    below = (
        f"with `targetValue` {target:g} and one job per worker, ceil(load / {target:g}) falls below the "
        "number of running jobs once nothing waits, and "
        if target > 1
        else ""
    )
    text = (
        f"The design signal stopped busy workers too ({stops} in the slow scenario): {below}the ReplicaSet "
        "picks the pods to delete without knowing which are busy. Counting running jobs keeps KEDA from "
        "scaling to zero under a job; the grace period is what lets a stopped worker finish."
    )
    one = _what_if(report, "target")
    if one is not None and target != 1:
        t1, now = one.summary("load"), report.contrasts[0].summary("load")
        text += (
            " With `targetValue` 1 (one replica per waiting or running job) the design signal's "
            f"slow-traffic p50/p95 wait is {duration(t1.wait_p50_s)} / {duration(t1.wait_p95_s)} (against "
            f"{duration(now.wait_p50_s)} / {duration(now.wait_p95_s)}) for {t1.worker_min:,.0f} "
            f"worker-minutes (against {now.worker_min:,.0f}), and it stops {t1.busy_stops} busy pods "
            f"(against {now.busy_stops})."
        )
    return text


def _grace_sentence(results: Results) -> str:
    """What a scenario with an overridden grace period did to running jobs."""
    d, q = (results.summary(s) for s in SIGNALS)
    grace = dict(results.scenario.what_if)["grace_s"]
    return (
        f"With a {grace:g} s grace period (Kubernetes' default), the design signal interrupted "
        f"{d.interrupted} jobs and the waiting-only one {q.interrupted}; {q.failed} failed with "
        f"`worker_lost` at the attempt cap (design: {d.failed})."
    )


def _api_paragraph(report: Report) -> str:
    """What the API's HPA did."""
    a = report.manifests.api
    rows = api_rows(report.api_variants)
    parts = [
        f"{name}: peak {rps} requests/s, {cpu} of the CPU request, replicas {reps}"
        for name, rps, cpu, reps, _ in rows
    ]
    return (
        f"**The API** (HPA on CPU, target {a.target_pct:g} % of a {a.cpu_request:g}-core request): "
        + "; ".join(parts)
        + ". Submitting is cheap; what loads the API is how clients wait for results."
    )


def markdown(report: Report) -> str:
    """The whole of docs/scaling.md."""
    main = report.main
    head = [SIGNAL_NAMES[s] for s in SIGNALS]
    sections = [
        "# Scaling simulation",
        "Generated by `make scaling-sim`; do not edit by hand. Command:",
        f"```\n{report.command}\n```",
        f"It renders `{report.overlay}` with `kubectl kustomize`, reads the thresholds below from the "
        "rendered objects, and replays the workload in 1-s ticks through the model below. Deterministic "
        f"(seed {main.scenario.seed}); the simulations took {report.elapsed_s:.1f} s.",
        "## Model", MODEL,
        "## Parameters", table(["parameter", "value", "source"], [list(r) for r in parameter_rows(report)]),
        f"## Results: {burst_text(main.scenario.burst)}",
        table(["", *head], result_rows([main.summary(s) for s in SIGNALS])),
        "![Queue, worker replicas and API replicas over time, per signal](scaling.png)",
        "## Where the two signals differ",
        f"Slow traffic: {burst_text(report.contrasts[0].scenario.burst)}. Its last rows replace one manifest "
        "value each, named in the scenario column.",
        table(["scenario", "signal", "wait p50 / p95 / max", "worker-min", "drain", "busy scale-ins (pods)",
               "zero while busy", "interrupted / failed", "ended once"],
              contrast_rows([main, *report.contrasts])),
        f"## The API during the burst (`{report.overlay}`)",
        table(["clients", "peak req/s", "peak CPU / request (15 s)", "replicas", "first scale-up"],
              api_rows(report.api_variants)),
        "## What it shows",
        *_burst_paragraphs(report), *_contrast_paragraphs(report), _api_paragraph(report),
    ]  # fmt: skip
    if report.manifests.warnings:
        sections += ["## Manifest notes", "\n".join(f"- {x}" for x in report.manifests.warnings)]
    return "\n\n".join(sections) + "\n"
