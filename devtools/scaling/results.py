"""Running a scenario under both worker signals and the API, and the figures the report quotes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from devtools.scaling.api import ApiLoad, ApiTrace, requests_per_s, simulate_api
from devtools.scaling.engine import Signal, WorkerSim
from devtools.scaling.params import Manifests
from devtools.scaling.workload import BurstSpec, Workload, burst

SIGNALS: tuple[Signal, ...] = ("load", "waiting")
SIGNAL_NAMES = {"load": "waiting + running (design)", "waiting": "waiting only (Redis list)"}


@dataclass(frozen=True)
class Scenario:
    """A workload and the assumptions no manifest states: pod start latency, seed, client behaviour."""

    name: str
    burst: BurstSpec = field(default_factory=BurstSpec)
    start_s: tuple[float, float] = (30.0, 60.0)
    seed: int = 7
    api: ApiLoad = field(default_factory=ApiLoad)
    # Manifest values this scenario replaces, (field of WorkerScaling, value), to show what a setting does.
    what_if: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Summary:
    """One signal's figures for one scenario."""

    signal: Signal
    jobs: int
    wait_p50_s: float
    wait_p95_s: float
    wait_max_s: float
    worker_min: float
    peak_replicas: int
    peak_at_s: int
    drain_s: float
    idle_at_s: int
    busy_decisions: int
    busy_stops: int
    zero_while_busy: int
    interrupted: int
    failed: int
    ended_once: int


@dataclass
class Results:
    """A scenario's workload, both worker runs and the API replay beside the design's run."""

    scenario: Scenario
    work: Workload
    runs: dict[Signal, WorkerSim]
    api: ApiTrace

    def summary(self, signal: Signal) -> Summary:
        """The figures of one signal's run."""
        sim = self.runs[signal]
        waits = sim.first_start - self.work.arrivals
        c = sim.counters
        return Summary(
            signal=signal,
            jobs=self.work.size,
            wait_p50_s=float(np.percentile(waits, 50)),
            wait_p95_s=float(np.percentile(waits, 95)),
            wait_max_s=float(np.max(waits)),
            worker_min=sim.worker_seconds(len(sim.trace.replicas)) / 60,
            peak_replicas=max(sim.trace.replicas),
            peak_at_s=sim.trace.replicas.index(max(sim.trace.replicas)),
            drain_s=float(np.nanmax(sim.end)),
            idle_at_s=sim.settled_at if sim.settled_at is not None else len(sim.trace.replicas),
            busy_decisions=c.busy_decisions,
            busy_stops=c.busy_stops,
            zero_while_busy=c.zero_while_busy,
            interrupted=c.interrupted,
            failed=c.failed,
            ended_once=int(np.sum(sim.completions == 1)),
        )


def simulate(manifests: Manifests, scenario: Scenario) -> Results:
    """Replay the scenario under both signals; the API sees the clients of the design's run."""
    overrides: dict[str, Any] = dict(scenario.what_if)
    worker = replace(manifests.worker, **overrides)
    work = burst(scenario.burst, limit_s=worker.job_limit_s, seed=scenario.seed)
    runs = {
        signal: WorkerSim(work, worker, signal=signal, start_s=scenario.start_s, seed=scenario.seed + 1).run()
        for signal in SIGNALS
    }
    design = runs["load"]
    rps = requests_per_s(work, design.end, len(design.trace.replicas), scenario.api.poll_s)
    return Results(scenario, work, runs, simulate_api(rps, manifests.api, scenario.api))
