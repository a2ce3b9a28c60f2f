"""What the store answers: small values, shared by its modules and its callers."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.job_record import JobRecord

# The history the wait estimate reads: a queue's last finished jobs (lib.lua's end_job keeps 100).
HISTORY = 50


@dataclass(frozen=True)
class Place:
    """A waiting job's 1-based place in its queue and when it should start, in seconds (None: unknown)."""

    position: int | None
    estimated_start_s: float | None


@dataclass(frozen=True)
class History:
    """A queue's recent finishes as the estimate reads them: how many, the oldest and newest (epoch s)."""

    finishes: int
    oldest: float
    newest: float
    workers: int

    def estimate_start_s(self, position: int) -> float | None:
        """Seconds until `position` more jobs finish at the queue's recent service rate.

        The rate is (n - 1) / (newest - oldest) over the last n ≤ HISTORY finishes: how fast the
        queue's workers finished jobs lately. None without workers or with fewer than two finishes.
        """
        span = self.newest - self.oldest
        if self.workers < 1 or self.finishes < 2 or span <= 0:
            return None
        return round(position * span / (self.finishes - 1), 1)


@dataclass(frozen=True)
class Created:
    """A job just written: its record, its place in line (and estimated start), its first event's id."""

    record: JobRecord
    place: Place
    event_id: str


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key as the store keeps it: per tenant, hashed, with the request's fingerprint."""

    tenant: str
    key_hash: str  # SHA-256 of the key, hex
    fingerprint: str  # SHA-256 of the request's validated body, hex
    inflight_until: float  # epoch seconds: until then a second request is told the first is in flight


@dataclass(frozen=True)
class Existing:
    """What an Idempotency-Key already made: the job, the fingerprint of its request, whether in flight."""

    job_id: str
    fingerprint: str
    inflight_until: float


@dataclass(frozen=True)
class QueueLoad:
    """One queue's jobs waiting, jobs running and live workers."""

    waiting: int
    running: int
    workers: int

    @property
    def load(self) -> int:
        """Waiting plus running: the worker autoscaling signal (busy workers are never scaled away)."""
        return self.waiting + self.running


@dataclass(frozen=True)
class Histogram:
    """A duration histogram as the store keeps it: count per bucket bound (seconds; "+Inf"), count, sum."""

    buckets: dict[str, int]
    count: int
    total: float


@dataclass(frozen=True)
class Stats:
    """What the metrics read from Redis at once: ends by type, status and code, durations, queue loads."""

    finished: dict[tuple[str, str, str], int]
    waits: dict[str, Histogram]
    runs: dict[str, Histogram]
    loads: dict[str, QueueLoad]
    usage: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (type, tenant, measure)
    budget_alerts: dict[tuple[str, str], int] = field(default_factory=dict)  # (scope, measure)
