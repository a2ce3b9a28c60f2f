"""The API's side of a burst: requests per second, CPU utilization per pod and its CPU-based HPA."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devtools.scaling.params import ApiScaling
from devtools.scaling.replicas import HPA_SYNC_S, Hpa, utilization_replicas
from devtools.scaling.workload import Workload


@dataclass(frozen=True)
class ApiLoad:
    """How clients use the API during a burst, and what a request costs."""

    cost_ms: float = 2.0  # CPU per request; docs/BENCHMARKS.md: ~1,060 POST/s on a shared 2-core machine
    poll_s: float = 60.0  # a client re-issues `GET /v1/jobs/{id}?wait=60` this often until its job ends
    start_s: float = 15.0  # API pod creation to ready (image cached, /ready answering)


@dataclass
class ApiTrace:
    """Per-second series: requests, 15-s CPU utilization (% of request) and the HPA's replicas."""

    rps: np.ndarray
    utilization: list[float] = field(default_factory=list)
    replicas: list[int] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)


def requests_per_s(work: Workload, end: np.ndarray, seconds: int, poll_s: float) -> np.ndarray:
    """Submissions, long-waits re-issued by clients whose job has not ended, and one result fetch per job."""
    edges = np.arange(seconds + 1)
    submitted = np.histogram(work.arrivals, bins=edges)[0]
    finished = np.histogram(end[~np.isnan(end)], bins=edges)[0]
    in_flight = np.cumsum(submitted) - np.cumsum(finished)
    return submitted + in_flight / poll_s + finished


def simulate_api(rps: np.ndarray, api: ApiScaling, load: ApiLoad) -> ApiTrace:
    """Replay the request rate against the API's pods; the HPA acts on the last 15 s of CPU utilization."""
    hpa = Hpa(api.min_replicas, api.max_replicas, api.behavior)
    ready_at = [0.0] * api.min_replicas
    trace = ApiTrace(rps=rps)
    used: list[float] = []
    for t in range(len(rps)):
        ready = max(1, sum(r <= t for r in ready_at))
        cap = ready * (api.cpu_limit if api.cpu_limit else np.inf)
        used.append(min(rps[t] * load.cost_ms / 1000, cap) / (ready * api.cpu_request) * 100)
        window = float(np.mean(used[-HPA_SYNC_S:]))
        trace.utilization.append(window)
        if t % HPA_SYNC_S == 0 and t > 0:
            raw = utilization_replicas(ready, window, api.target_pct)
            ready_at = resize(ready_at, hpa.step(t, raw, len(ready_at)), t + load.start_s)
        trace.replicas.append(len(ready_at))
        trace.ready.append(ready)
    return trace


def resize(ready_at: list[float], replicas: int, new_ready_at: float) -> list[float]:
    """Pods after a resize: new ones become ready later; scale-in removes the newest first."""
    if replicas >= len(ready_at):
        return ready_at + [new_ready_at] * (replicas - len(ready_at))
    return sorted(ready_at)[:replicas]
