"""Running jobs as a pipeline sees them: reports buffered per batch, stops learned at each sync."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.inputs import JobInput
from shared.leases import Leases, Report


class StopReason(StrEnum):
    """Why a running job must stop before it finishes."""

    CANCELED = "canceled"
    LEASE_LOST = "lease_lost"
    TIMEOUT = "timeout"


class RunContext:
    """One job's reports and its stop flag; its batch sends the reports."""

    def __init__(self, job_id: str, *, holder: str, deadline: float) -> None:
        self.job_id = job_id
        self.holder = holder
        self.deadline = deadline
        self.stop: StopReason | None = None
        self._text: list[str] = []
        self._index = 0
        self._progress: dict[str, int] | None = None

    @property
    def wanted(self) -> bool:
        """False once the job must stop (canceled, taken over, past its deadline)."""
        return self.stop is None

    def progress(self, step: int, total: int) -> None:
        """Note how far the job is (sent at the batch's next flush; only the latest counts)."""
        if self.stop is None:
            self._progress = {"step": step, "total": total}

    def token(self, text: str, index: int, total: int) -> None:
        """Add generated text, `index` tokens of at most `total` in (sent, joined, at the next flush)."""
        if self.stop is None:
            self._text.append(text)
            self._index = index
            self._progress = {"step": index, "total": total}

    def take_reports(self) -> list[Report]:
        """What to send since the last flush: one token event, or one progress event, or nothing."""
        reports = []
        if self._text:
            data: dict[str, Any] = {"text": "".join(self._text), "index": self._index}
            reports.append(Report(self.job_id, self.holder, "token", data, self._progress))
        elif self._progress is not None:
            reports.append(Report(self.job_id, self.holder, "progress", dict(self._progress), self._progress))
        self._text, self._progress = [], None
        return reports

    def learn(self, status: str) -> None:
        """Take in what the store said about the job at the last report."""
        if status == "canceled":
            self.stop = StopReason.CANCELED
        elif status != "running":
            self.stop = StopReason.LEASE_LOST

    def check_deadline(self, now: float) -> None:
        if self.stop is None and now > self.deadline:
            self.stop = StopReason.TIMEOUT


@dataclass(frozen=True)
class JobItem:
    """One job of a batch: its validated input and its context."""

    input: JobInput
    ctx: RunContext


@dataclass
class Batch:
    """Jobs a pipeline runs together; their reports go to Redis in one round trip per flush.

    Pipelines call `sync` every step; it flushes at most every `interval_s`, coalescing a job's
    tokens into one event, so a fast decoder is not slowed by a round trip per token.
    """

    items: list[JobItem]
    leases: Leases
    interval_s: float = 0.0
    _last_flush: float = field(default=float("-inf"))

    def sync(self, *, force: bool = False) -> None:
        """Check deadlines; send the queued reports if due and learn which jobs must stop."""
        now = time.monotonic()
        contexts = [item.ctx for item in self.items]
        for ctx in contexts:
            ctx.check_deadline(now)
        if not force and now - self._last_flush < self.interval_s:
            return
        self._last_flush = now
        batches = [(ctx, ctx.take_reports()) for ctx in contexts]
        reports = [r for _, rs in batches for r in rs]
        owners = [ctx for ctx, rs in batches for _ in rs]
        statuses = self.leases.report_many(reports) if reports else []
        for ctx, status in zip(owners, statuses, strict=True):
            ctx.learn(status)

    @property
    def any_wanted(self) -> bool:
        """True while at least one job of the batch is still wanted."""
        return any(item.ctx.wanted for item in self.items)

    def split(self) -> tuple[Batch, Batch]:
        """Two halves, for a retry after the device ran out of memory."""
        half = len(self.items) // 2
        return (
            Batch(self.items[:half], self.leases, self.interval_s),
            Batch(self.items[half:], self.leases, self.interval_s),
        )
