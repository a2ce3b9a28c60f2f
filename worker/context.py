"""The running job as a pipeline sees it: reports go to the job's events, stops come back."""

from __future__ import annotations

import time
from enum import StrEnum

from shared.leases import Leases


class StopReason(StrEnum):
    """Why a running job must stop before it finishes."""

    CANCELED = "canceled"
    LEASE_LOST = "lease_lost"
    TIMEOUT = "timeout"


class RunContext:
    """Reports one job's progress and tokens and tells its pipeline when to stop."""

    def __init__(self, job_id: str, *, leases: Leases, holder: str, deadline: float) -> None:
        self.job_id = job_id
        self.leases = leases
        self.holder = holder
        self.deadline = deadline
        self.stop: StopReason | None = None

    @property
    def wanted(self) -> bool:
        return self.stop is None

    def progress(self, step: int, total: int) -> bool:
        return self._report("progress", {"step": step, "total": total}, progress=True)

    def token(self, text: str, index: int) -> bool:
        return self._report("token", {"text": text, "index": index}, progress=False)

    def _report(self, event: str, data: dict[str, object], *, progress: bool) -> bool:
        if self.stop is not None:
            return False
        if time.monotonic() > self.deadline:
            self.stop = StopReason.TIMEOUT
            return False
        status = self.leases.report(self.job_id, self.holder, event, data, progress=progress)
        if status == "canceled":
            self.stop = StopReason.CANCELED
        elif status != "running":
            self.stop = StopReason.LEASE_LOST
        return self.stop is None
