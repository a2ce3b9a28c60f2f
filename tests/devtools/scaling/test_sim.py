"""The scaling simulation: KEDA/HPA arithmetic, job conservation, scale-in safety, and manifest thresholds."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from devtools import REPO
from devtools.scaling import sim as scaling_sim
from devtools.scaling.engine import Signal, WorkerSim
from devtools.scaling.manifests import load
from devtools.scaling.params import ManifestError, Manifests, WorkerScaling, cpu_cores, parse
from devtools.scaling.replicas import (
    DEFAULT_DOWN,
    Behavior,
    Hpa,
    Policy,
    Rules,
    average_value_replicas,
    down_limit,
    keda_active,
    up_limit,
    utilization_replicas,
)
from devtools.scaling.results import SIGNALS, Scenario, simulate
from devtools.scaling.workload import BurstSpec, Workload

SLOW = BurstSpec(jobs=15, over_s=3600.0, service_s=420.0, service_cv=0.3)
ONE_BY_ONE = Rules(0, (Policy("Pods", 1, 60),))


@pytest.fixture(scope="module")
def manifests(rendered: dict[str, list[dict[str, Any]]]) -> Manifests:
    return load(rendered["minikube"])


# --- KEDA and HPA arithmetic, hand-checked -------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "target", "current", "expected"),
    [
        (10, 2, 1, 5),  # ceil(10 / 2)
        (11, 2, 1, 6),  # ceil(5.5)
        (10.5, 2, 5, 5),  # ratio 1.05 is inside the 10 % tolerance: no change
        (12, 2, 5, 6),  # ratio 1.2: ceil(12 / 2)
        (0, 2, 3, 0),  # nothing to do; the HPA clamps this to its minimum later
    ],
)
def test_average_value_target(metric: float, target: float, current: int, expected: int) -> None:
    assert average_value_replicas(metric, target, current) == expected


@pytest.mark.parametrize(
    ("current", "utilization", "target", "expected"),
    [(2, 140, 70, 4), (2, 75, 70, 2), (3, 10, 70, 1), (4, 90, 70, 6)],
)
def test_cpu_target(current: int, utilization: float, target: float, expected: int) -> None:
    assert utilization_replicas(current, utilization, target) == expected


@pytest.mark.parametrize(("metric", "activation", "active"), [(0, 0, False), (1, 0, True), (5, 5, False)])
def test_keda_activation_is_strictly_above(metric: float, activation: float, active: bool) -> None:
    assert keda_active(metric, activation) is active


def test_default_scale_up_is_the_larger_of_four_pods_and_double() -> None:
    up = Behavior().up
    assert up_limit(1, [], 0, up) == 5
    assert up_limit(10, [], 0, up) == 20
    # 4 pods were added 10 s ago (1 -> 5): the period started at 1, so 5 is already the limit.
    assert up_limit(5, [(0, 4)], 10, up) == 5
    assert up_limit(5, [(0, 4)], 15, up) == 10


def test_scale_down_policy_of_one_pod_a_minute() -> None:
    down = Rules(300, (Policy("Pods", 1, 60),))
    assert down_limit(4, [], 0, down) == 3
    assert down_limit(3, [(0, -1)], 30, down) == 3
    assert down_limit(3, [(0, -1)], 60, down) == 2


def test_stabilization_window_holds_the_highest_recommendation() -> None:
    hpa = Hpa(1, 10)
    assert hpa.step(0, 4, 1) == 4
    assert hpa.step(15, 1, 4) == 4
    assert hpa.step(285, 1, 4) == 4
    assert hpa.step(300, 1, 4) == 1  # the recommendation of t=0 left the 300 s window; 100 % per 15 s
    assert hpa.step(315, 20, 1) == 5  # max(4 pods, 100 %) per 15 s, below maxReplicas


def test_behavior_defaults_fill_what_a_manifest_leaves_out() -> None:
    behavior = Behavior.from_spec(
        {"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    )
    assert behavior.down == Rules(DEFAULT_DOWN.window_s, (Policy("Pods", 1, 60),))
    assert behavior.up == Behavior().up


@pytest.mark.parametrize(("quantity", "cores"), [("250m", 0.25), ("1", 1.0), (2, 2.0), ("0.5", 0.5)])
def test_cpu_quantities(quantity: str | int, cores: float) -> None:
    assert cpu_cores(quantity) == cores


# --- The engine on one job, hand-checked ---------------------------------------------------------------


def one_job(signal: Signal, *, grace_s: int) -> WorkerSim:
    """A 100-s job at t=0; KEDA polls every 10 s with a 30 s cooldown; pods are ready 5 s after creation."""
    cfg = WorkerScaling(target=2, polling_s=10, cooldown_s=30, max_replicas=4, grace_s=grace_s)
    work = Workload(np.array([0.0]), np.array([100.0]))
    return WorkerSim(work, cfg, signal=signal, start_s=(5.0, 5.0), seed=0).run()


def test_design_signal_keeps_a_busy_worker_until_its_job_ends() -> None:
    sim = one_job("load", grace_s=30)
    assert sim.first_start[0] == 5.0
    assert sim.end[0] == 105.0
    # Load is 1 until 105; the last active poll is t=100, so the cooldown ends at t=130.
    assert sim.trace.replicas[129] == 1
    assert sim.trace.replicas[130] == 0
    assert sim.counters.zero_while_busy == sim.counters.interrupted == 0


def test_waiting_only_signal_scales_to_zero_under_the_running_job() -> None:
    sim = one_job("waiting", grace_s=720)
    # The list is empty from t=5 on; the last active poll was t=0, so KEDA goes to zero at t=30.
    assert sim.trace.replicas[29] == 1
    assert sim.trace.replicas[30] == 0
    assert sim.counters.zero_while_busy == 1
    assert sim.counters.interrupted == 0  # the 720 s grace period lets the job finish
    assert sim.end[0] == 105.0


def test_waiting_only_with_a_short_grace_kills_the_job_until_the_attempt_cap() -> None:
    sim = one_job("waiting", grace_s=30)
    # Each attempt is killed 30 s after the scale to zero; the third one ends the job as `worker_lost`.
    assert sim.counters.interrupted == 3
    assert sim.counters.failed == 1
    assert sim.completions[0] == 1


# --- Conservation and scale-in safety at the manifests' values -------------------------------------------


@pytest.mark.parametrize("grace_s", [None, 30])
@pytest.mark.parametrize("spec", [BurstSpec(), SLOW], ids=["burst", "slow"])
def test_every_job_ends_exactly_once(manifests: Manifests, spec: BurstSpec, grace_s: int | None) -> None:
    what_if = () if grace_s is None else (("grace_s", grace_s),)
    results = simulate(manifests, Scenario("t", burst=spec, what_if=what_if))
    for signal in SIGNALS:
        sim = results.runs[signal]
        assert (sim.completions == 1).all(), signal
        assert not np.isnan(sim.end).any()
        assert (sim.first_start >= results.work.arrivals).all()
        assert (sim.end >= sim.first_start).all()
        assert not sim.queue
        assert not sim.lapsed
        assert not sim.pods
        assert sim.settled_at is not None


@pytest.mark.parametrize("seed", [1, 7, 23])
def test_design_signal_never_interrupts_at_the_manifests_grace(manifests: Manifests, seed: int) -> None:
    assert manifests.worker.grace_s >= manifests.worker.hard_limit_s, "grace period below the hard job limit"
    for spec in (BurstSpec(), SLOW):
        design = simulate(manifests, Scenario("t", burst=spec, seed=seed)).summary("load")
        assert design.interrupted == design.zero_while_busy == design.failed == 0


def test_waiting_only_signal_scales_busy_workers_in(manifests: Manifests) -> None:
    results = simulate(manifests, Scenario("slow", burst=SLOW))
    waiting, design = results.summary("waiting"), results.summary("load")
    assert waiting.zero_while_busy > 0
    assert waiting.wait_p50_s > design.wait_p50_s
    short_grace = simulate(manifests, Scenario("slow", burst=SLOW, what_if=(("grace_s", 30),)))
    assert short_grace.summary("waiting").interrupted > 0


def test_same_seed_same_results(manifests: Manifests) -> None:
    first, second = (simulate(manifests, Scenario("t", seed=3)) for _ in range(2))
    for signal in SIGNALS:
        assert first.summary(signal) == second.summary(signal)
        assert first.runs[signal].trace == second.runs[signal].trace


# --- Thresholds come from the rendered manifests ---------------------------------------------------------


def only(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}"
    return matches[0]


def test_thresholds_are_the_rendered_minikube_values(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objs = rendered["minikube"]
    scaled = only(objs, "ScaledObject", "llmb-worker-image")["spec"]
    trigger = next(t for t in scaled["triggers"] if t["type"] == "metrics-api")
    pod = only(objs, "Deployment", "llmb-worker-image")["spec"]["template"]["spec"]
    hpa = only(objs, "HorizontalPodAutoscaler", "llmb-api")["spec"]
    read = load(objs)
    w, api = read.worker, read.api
    assert trigger["metadata"]["valueLocation"] == "queues.image.load"
    assert w.target == float(trigger["metadata"]["targetValue"])
    assert w.activation == float(trigger["metadata"].get("activationTargetValue", 0))
    assert (w.polling_s, w.cooldown_s) == (
        scaled.get("pollingInterval", 30),
        scaled.get("cooldownPeriod", 300),
    )
    assert (w.min_replicas, w.max_replicas) == (
        scaled.get("minReplicaCount", 0),
        scaled.get("maxReplicaCount", 100),
    )
    behavior = scaled.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior")
    assert w.behavior == Behavior.from_spec(behavior)
    assert w.grace_s == pod.get("terminationGracePeriodSeconds", 30)
    config = next(
        o for o in objs if o["kind"] == "ConfigMap" and "LLMB_JOB_TIME_LIMIT_S" in o.get("data", {})
    )
    assert w.job_limit_s == int(config["data"]["LLMB_JOB_TIME_LIMIT_S"])
    target = next(m for m in hpa["metrics"] if m["type"] == "Resource")["resource"]["target"]
    assert (api.min_replicas, api.max_replicas) == (hpa.get("minReplicas", 1), hpa["maxReplicas"])
    assert api.target_pct == target["averageUtilization"]


def test_reader_names_what_is_missing() -> None:
    objs = parse(
        "kind: ScaledObject\nmetadata: {name: llmb-worker-image}\n"
        "spec: {triggers: [{type: redis, metadata: {listName: image}}]}\n"
    )
    with pytest.raises(ManifestError, match="no metrics-api trigger"):
        load(objs)


def test_make_target_renders_the_overlay_and_writes_the_report(tmp_path: Path) -> None:
    md, png = tmp_path / "scaling.md", tmp_path / "scaling.png"
    started = time.perf_counter()
    argv = ["--overlay", str(REPO / "k8s/overlays/minikube"), "--out-md", str(md), "--out-png", str(png)]
    assert scaling_sim.main(argv) == 0
    assert time.perf_counter() - started < 15  # about 2 s on a laptop; generous for shared CI machines
    text = md.read_text()
    assert "ScaledObject llmb-worker-image `spec.maxReplicaCount`" in text
    assert "| jobs that ended exactly once | 2,000 of 2,000 | 2,000 of 2,000 |" in text
    assert png.stat().st_size > 50_000


def test_a_missing_overlay_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--overlay", str(tmp_path / "nowhere"), "--out-md", str(tmp_path / "x.md")]
    assert scaling_sim.main(argv) == 2
    assert "kustomize" in capsys.readouterr().err
    assert not (tmp_path / "x.md").exists()


def test_what_if_changes_only_the_named_value(manifests: Manifests) -> None:
    scenario = Scenario("t", burst=BurstSpec(jobs=50), what_if=(("grace_s", 30), ("target", 1.0)))
    results = simulate(manifests, scenario)
    assert results.runs["load"].cfg == replace(manifests.worker, grace_s=30, target=1.0)
