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
        self.pending: list[Report] = []

    @property
    def wanted(self) -> bool:
        """False once the job must stop (canceled, taken over, past its deadline)."""
        return self.stop is None

    def progress(self, step: int, total: int) -> None:
        """Queue a progress report (sent at the batch's next sync)."""
        done = {"step": step, "total": total}
        self._queue("progress", done, progress=done)

    def token(self, text: str, index: int, total: int) -> None:
        """Queue a piece of generated text, `index` tokens of at most `total` in (sent at the next sync)."""
        self._queue("token", {"text": text, "index": index}, progress={"step": index, "total": total})

    def _queue(self, event: str, data: dict[str, Any], *, progress: dict[str, int]) -> None:
        if self.stop is None:
            self.pending.append(Report(self.job_id, self.holder, event, data, progress))

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
    """Jobs a pipeline runs together; `sync` sends their reports in one Redis round trip."""

    items: list[JobItem]
    leases: Leases
    syncs: int = field(default=0)

    def sync(self) -> None:
        """Send every queued report and learn which jobs must stop (canceled, lost, late)."""
        now = time.monotonic()
        contexts = [item.ctx for item in self.items]
        for ctx in contexts:
            ctx.check_deadline(now)
        reports = [r for ctx in contexts for r in ctx.pending]
        owners = [ctx for ctx in contexts for _ in ctx.pending]
        for ctx in contexts:
            ctx.pending = []
        statuses = self.leases.report_many(reports) if reports else []
        for ctx, status in zip(owners, statuses, strict=True):
            ctx.learn(status)
        self.syncs += 1

    @property
    def any_wanted(self) -> bool:
        """True while at least one job of the batch is still wanted."""
        return any(item.ctx.wanted for item in self.items)

    def split(self) -> tuple[Batch, Batch]:
        """Two halves, for a retry after the device ran out of memory."""
        half = len(self.items) // 2
        return Batch(self.items[:half], self.leases), Batch(self.items[half:], self.leases)
