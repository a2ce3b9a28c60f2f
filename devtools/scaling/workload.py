"""The jobs a simulation replays: when each arrives and how long a worker needs for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Arrivals = Literal["poisson", "uniform"]


@dataclass(frozen=True)
class Workload:
    """Arrival times (sorted, seconds from the burst's start) and service times of the same jobs."""

    arrivals: np.ndarray
    service_s: np.ndarray

    @property
    def size(self) -> int:
        """How many jobs arrive."""
        return len(self.arrivals)


@dataclass(frozen=True)
class BurstSpec:
    """A burst: `jobs` arriving over `over_s`, each served in about `service_s` (gamma, coefficient `cv`)."""

    jobs: int = 2000
    over_s: float = 120.0
    arrivals: Arrivals = "poisson"
    service_s: float = 10.0
    service_cv: float = 0.3


def burst(spec: BurstSpec, *, limit_s: float, seed: int) -> Workload:
    """A seeded burst; service times are capped at the job time limit, where the worker fails the job."""
    rng = np.random.default_rng(seed)
    if spec.arrivals == "uniform":
        arrivals = np.arange(spec.jobs) * (spec.over_s / spec.jobs)
    else:
        # A Poisson process conditioned on its count: uniform times, sorted.
        arrivals = np.sort(rng.uniform(0.0, spec.over_s, spec.jobs))
    return Workload(arrivals, service_times(rng, spec, limit_s))


def service_times(rng: np.random.Generator, spec: BurstSpec, limit_s: float) -> np.ndarray:
    """Gamma-distributed service times with the spec's mean and coefficient of variation."""
    if spec.service_cv <= 0:
        times = np.full(spec.jobs, spec.service_s)
    else:
        shape = 1.0 / spec.service_cv**2
        times = rng.gamma(shape, spec.service_s / shape, spec.jobs)
    return np.clip(times, 0.1, limit_s)
