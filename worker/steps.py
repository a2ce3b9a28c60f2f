"""The runner's side of `Steps`: each running job's reports, buffered and sent per interval, and its stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.errors import UnavailableError
from shared.store import Leases, Report
from shared.vocabulary import EventType
from worker.metrics import metrics
from worker.pipelines.base import JobStopped


class StopReason(StrEnum):
    """Why a running job must stop before it finishes."""

    CANCELED = "canceled"
    LEASE_LOST = "lease_lost"
    TIMEOUT = "timeout"
    DEADLINE = "deadline"
    HANDED_BACK = "handed_back"


log = logging.getLogger(__name__)

# Set in a pool process when its worker is asked to stop: running jobs go back to the queue.
HAND_BACK = threading.Event()


@dataclass
class RunningJob:
    """One job while it runs: who holds it, until when it may run, what to send next, why it stops."""

    job_id: str
    holder: str
    time_limit_at: float  # time.monotonic() past which it times out (LLMB_JOB_TIME_LIMIT_S on the device)
    deadline_at: float | None = None  # epoch seconds past which the client no longer wants it
    stop: StopReason | None = None
    sent_tokens: int = 0  # tokens already sent: a retried batch does not send them twice
    _text: list[str] = field(default_factory=list)
    _count: int = 0
    _seen: int = 0  # tokens counted in llmb_generated_tokens_total (a retried run counts again)
    _progress: dict[str, int] | None = None

    def progress(self, step: int, total: int) -> None:
        """Note how far the job is; only the latest is sent."""
        if self.stop is None:
            self._progress = {"step": step, "total": total}

    def token(self, text: str, count: int, total: int) -> None:
        """Add generated text, `count` tokens of at most `total` in."""
        metrics().tokens.inc(count - self._seen if count > self._seen else count)
        self._seen = count
        if self.stop is None and count > self.sent_tokens:
            self._text.append(text)
            self._count = count
            self._progress = {"step": count, "total": total}

    def pending_report(self) -> Report:
        """What to send since the last flush: a token event, a progress event, or only the status check."""
        if self._text:
            data: dict[str, Any] = {"text": "".join(self._text), "index": self._count}
            return Report(self.job_id, self.holder, EventType.TOKEN, data, self._progress)
        if self._progress is not None:
            data = dict(self._progress)
            return Report(self.job_id, self.holder, EventType.PROGRESS, data, self._progress)
        return Report(self.job_id, self.holder, None, {})

    def sent(self, status: str) -> None:
        """The pending report landed; take in what the store said about the job."""
        if self._text:
            self.sent_tokens = self._count
        self._text, self._progress = [], None
        self.learn(status)

    def drop_pending(self) -> None:
        """Forget what waits to be sent (its run failed; a retry generates it again)."""
        self._text, self._progress = [], None

    def learn(self, status: str) -> None:
        """Take in what the store said about the job at the last report."""
        if status == "canceled":
            self.stop = StopReason.CANCELED
        elif status != "running":
            self.stop = StopReason.LEASE_LOST

    def check(self, now: float) -> None:
        """Stop the job once it is past its time limit or its deadline, or its worker is stopping."""
        if self.stop is None and now > self.time_limit_at:
            self.stop = StopReason.TIMEOUT
        if self.stop is None and self.deadline_at is not None and time.time() > self.deadline_at:
            self.stop = StopReason.DEADLINE
        if self.stop is None and HAND_BACK.is_set():
            self.stop = StopReason.HANDED_BACK


class RunningBatch:
    """`Steps` for jobs run together: their reports go to Redis in one round trip per interval."""

    def __init__(
        self,
        jobs: list[RunningJob],
        leases: Leases,
        *,
        interval_s: float,
        job_type: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs = jobs
        self.job_type = job_type
        self.leases = leases
        self.interval_s = interval_s
        self.clock = clock
        self._last_flush = float("-inf")
        self._last_step = clock()
        self._outage = False

    def progress(self, row: int, step: int, total: int) -> None:
        self.jobs[row].progress(step, total)

    def token(self, row: int, text: str, *, count: int, total: int) -> None:
        self.jobs[row].token(text, count, total)

    def wanted(self, row: int) -> bool:
        return self.jobs[row].stop is None

    def checkpoint(self) -> None:
        now = self.clock()
        metrics().step_seconds.labels(self.job_type).observe(now - self._last_step)
        self._last_step = now
        for job in self.jobs:
            job.check(now)
        if now - self._last_flush >= self.interval_s:
            self.flush()
        if all(job.stop is not None for job in self.jobs):
            raise JobStopped()

    def flush(self) -> bool:
        """Send every pending report now and learn each running job's status.

        While Redis is unreachable the reports stay pending (tokens keep gathering) and the batch
        goes on computing; False says they were not sent.
        """
        self._last_flush = self.clock()
        running = [job for job in self.jobs if job.stop is None]
        try:
            statuses = self.leases.report_many([job.pending_report() for job in running]) if running else []
        except UnavailableError as exc:
            if not self._outage:
                log.warning("cannot send the progress of %d jobs, keeping it: %s", len(running), exc)
            self._outage = True
            return False
        self._outage = False
        for job, status in zip(running, statuses, strict=True):
            job.sent(status)
        return True

    def split(self) -> tuple[RunningBatch, RunningBatch]:
        """Two halves, to retry a batch that failed whole; what the failed run left unsent is dropped."""
        for job in self.jobs:
            job.drop_pending()
        half = len(self.jobs) // 2
        return self._sub(self.jobs[:half]), self._sub(self.jobs[half:])

    def _sub(self, jobs: list[RunningJob]) -> RunningBatch:
        return RunningBatch(
            jobs, self.leases, interval_s=self.interval_s, job_type=self.job_type, clock=self.clock
        )
