"""A 1-second-tick replay of one worker queue under KEDA and its HPA: jobs, pods, scale-up and scale-in."""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from devtools.scaling.params import WorkerScaling
from devtools.scaling.replicas import (
    HPA_SYNC_S,
    Hpa,
    average_value_replicas,
    keda_active,
    utilization_replicas,
)
from devtools.scaling.workload import Workload

# "load": the design's waiting + running from /v1/queues; "waiting": a KEDA Redis list scaler's LLEN.
Signal = Literal["load", "waiting"]
HORIZON_S = 6 * 3600
# Seconds recorded after everything settled, so a plot shows the last scale-in.
TAIL_S = 90


@dataclass
class Pod:
    """One worker pod: it runs one job at a time once ready, and finishes that job when told to stop."""

    created: float
    ready_at: float
    job: int | None = None
    busy_until: float = 0.0  # when the current job ends, or when the last one ended
    stop_at: float | None = None
    gone_at: float | None = None


@dataclass
class Trace:
    """Per-second series: jobs waiting and running, the Deployment's replicas and the pods that exist."""

    waiting: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)
    replicas: list[int] = field(default_factory=list)
    pods: list[int] = field(default_factory=list)


@dataclass
class Counters:
    """What scale-in did to busy workers."""

    busy_decisions: int = 0  # scale-in decisions that picked at least one pod running a job
    busy_stops: int = 0  # pods stopped while running a job
    interrupted: int = 0  # jobs still running when the grace period ran out (SIGKILL)
    zero_while_busy: int = 0  # KEDA scale-to-zero decisions taken while a job ran
    failed: int = 0  # jobs failed with `worker_lost` after being killed at every attempt


class WorkerSim:
    """One queue's workers driven by one signal; `run` replays the workload until everything is idle again."""

    def __init__(
        self,
        work: Workload,
        scaling: WorkerScaling,
        *,
        signal: Signal,
        start_s: tuple[float, float],
        seed: int,
    ) -> None:
        self.work, self.cfg, self.signal, self.start_s = work, scaling, signal, start_s
        self.rng = np.random.default_rng(seed)
        self.hpa = Hpa(max(scaling.min_replicas, 1), scaling.max_replicas, scaling.behavior)
        self.queue: deque[tuple[float, int]] = deque()  # (in the queue since, job)
        self.lapsed: list[tuple[float, int]] = []  # killed jobs, requeued when their lease lapses
        self.pods = [Pod(0.0, 0.0) for _ in range(scaling.min_replicas)]
        self.gone: list[Pod] = []
        self.replicas, self.last_active, self.next_arrival = scaling.min_replicas, -math.inf, 0
        self.first_start = np.full(work.size, np.nan)
        self.end = np.full(work.size, np.nan)
        self.completions = np.zeros(work.size, dtype=int)
        self.attempts = np.zeros(work.size, dtype=int)
        self.trace, self.counters = Trace(), Counters()
        self.settled_at: int | None = None

    def run(self, horizon_s: int = HORIZON_S) -> WorkerSim:
        """Tick once a second until all jobs ended and the workers are back at their minimum (plus a tail)."""
        for t in range(horizon_s):
            self._admit(t)
            self._finish(t)
            self._assign(t)
            self._scale(t)
            self._reconcile(t)
            self._record()
            if self.settled_at is None and self._settled():
                self.settled_at = t
            if self.settled_at is not None and t >= self.settled_at + TAIL_S:
                break
        return self

    def _admit(self, t: int) -> None:
        """Arrivals up to now, and killed jobs whose lease lapsed, join the back of the queue."""
        arrivals = self.work.arrivals
        while self.next_arrival < self.work.size and arrivals[self.next_arrival] <= t:
            self.queue.append((float(arrivals[self.next_arrival]), self.next_arrival))
            self.next_arrival += 1
        while self.lapsed and self.lapsed[0][0] <= t:
            self.queue.append(heapq.heappop(self.lapsed))

    def _finish(self, t: int) -> None:
        """Jobs that ended by now complete; a stopping pod past its grace period is killed mid-job."""
        for pod in self.pods:
            deadline = None if pod.stop_at is None else pod.stop_at + self.cfg.grace_s
            if pod.job is not None and deadline is not None and deadline <= t and deadline < pod.busy_until:
                self._kill(pod, pod.job, deadline)
            elif pod.job is not None and pod.busy_until <= t:
                self._complete(pod.job, pod.busy_until)
                pod.job = None
                if pod.stop_at is not None:
                    pod.gone_at = pod.busy_until
        self.gone += [p for p in self.pods if p.gone_at is not None]
        self.pods = [p for p in self.pods if p.gone_at is None]

    def _kill(self, pod: Pod, job: int, at: float) -> None:
        """SIGKILL at the end of the grace period: the job's lease lapses, then it is requeued or fails."""
        self.counters.interrupted += 1
        pod.job, pod.gone_at = None, at
        lapsed_at = at + self.cfg.lease_ttl_s
        if self.attempts[job] >= self.cfg.max_attempts:
            self.counters.failed += 1  # `worker_lost` once the attempt cap is reached
            self._complete(job, lapsed_at)
        else:
            heapq.heappush(self.lapsed, (lapsed_at, job))

    def _complete(self, job: int, at: float) -> None:
        """Record a job's end (succeeded, or failed at the attempt cap)."""
        self.end[job] = at
        self.completions[job] += 1

    def _assign(self, t: int) -> None:
        """Idle ready pods take jobs in FIFO order, at the moment both were free (within this second)."""
        free = [
            (max(p.busy_until, p.ready_at), i)
            for i, p in enumerate(self.pods)
            if p.job is None and p.stop_at is None and p.ready_at <= t
        ]
        heapq.heapify(free)
        while free and self.queue:
            since, i = heapq.heappop(free)
            queued_at, job = self.queue.popleft()
            start = max(since, queued_at)
            if math.isnan(self.first_start[job]):
                self.first_start[job] = start
            self.attempts[job] += 1
            end = start + float(self.work.service_s[job])
            if end <= t:
                self._complete(job, end)
                heapq.heappush(free, (end, i))
            else:
                self.pods[i].job = job
            self.pods[i].busy_until = end

    def running(self) -> int:
        """Jobs the job store counts as running: on a pod, or on a killed pod whose lease has not lapsed."""
        return sum(p.job is not None for p in self.pods) + len(self.lapsed)

    def metric(self) -> int:
        """What the scaler reads: waiting + running (the design) or only the list length."""
        return len(self.queue) + (self.running() if self.signal == "load" else 0)

    def _scale(self, t: int) -> None:
        """KEDA's polling loop (activation, to and from zero) and the HPA's sync loop above one replica."""
        metric = self.metric()
        if t % self.cfg.polling_s == 0:
            self._keda(t, metric)
        if t % HPA_SYNC_S == 0 and self.replicas > 0:
            self.replicas = self.hpa.step(t, self._raw(metric), self.replicas)

    def _raw(self, metric: int) -> int:
        """The HPA's raw recommendation for KEDA's external metric under the trigger's metricType."""
        if self.cfg.metric_type == "Value":
            return utilization_replicas(self.replicas, metric, self.cfg.target)
        return average_value_replicas(metric, self.cfg.target, self.replicas)

    def _keda(self, t: int, metric: int) -> None:
        """One KEDA poll: activate from zero, or scale to zero after cooldownPeriod without activity."""
        active = keda_active(metric, self.cfg.activation)
        if active:
            self.last_active = t
            if self.replicas == 0:
                self.replicas = max(self.cfg.min_replicas, 1)
        elif self.replicas > 0 and self.cfg.min_replicas == 0 and t - self.last_active >= self.cfg.cooldown_s:
            if any(p.job is not None for p in self.pods):
                self.counters.zero_while_busy += 1
            self.replicas = 0

    def _reconcile(self, t: int) -> None:
        """The ReplicaSet creates missing pods or stops surplus ones, picked as Kubernetes ranks them."""
        live = [p for p in self.pods if p.stop_at is None]
        lo, hi = self.start_s
        for _ in range(self.replicas - len(live)):
            self.pods.append(Pod(float(t), t + float(self.rng.uniform(lo, hi))))
        surplus = len(live) - self.replicas
        if surplus <= 0:
            return
        # Not-ready pods go first, then the most recently ready: busyness is not in the ranking.
        victims = sorted(live, key=lambda p: (p.ready_at <= t, -p.ready_at))[:surplus]
        busy = [p for p in victims if p.job is not None]
        self.counters.busy_decisions += bool(busy)
        self.counters.busy_stops += len(busy)
        for pod in victims:
            pod.stop_at = float(t)
            if pod.job is None:
                pod.gone_at = float(t)
        self.gone += [p for p in victims if p.job is None]
        self.pods = [p for p in self.pods if p.gone_at is None]

    def _record(self) -> None:
        """Append this second's state to the trace."""
        self.trace.waiting.append(len(self.queue))
        self.trace.running.append(self.running())
        self.trace.replicas.append(self.replicas)
        self.trace.pods.append(len(self.pods))

    def _settled(self) -> bool:
        """Whether every job ended and only the minimum of idle, live pods remains."""
        everything_ended = self.next_arrival == self.work.size and not self.queue and not self.lapsed
        idle = all(p.job is None and p.stop_at is None for p in self.pods)
        return everything_ended and idle and len(self.pods) == self.replicas == self.cfg.min_replicas

    def worker_seconds(self, until: float) -> float:
        """Pod-seconds held from creation to exit (pods still alive count until `until`)."""
        return sum((p.gone_at if p.gone_at is not None else until) - p.created for p in self.gone + self.pods)
