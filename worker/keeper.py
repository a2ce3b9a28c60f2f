"""Background threads: lease renewal in each pool process, heartbeats and the reaper in the main one."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from shared.errors import UnavailableError
from shared.job_record import JobType
from shared.store import JobStore, Leases
from shared.store.permits import Permits
from worker.liveness import STALL_S, ConsumeWatch, touch

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews the leases of the jobs this process runs, so the reaper leaves them alone."""

    def __init__(self, leases: Leases, holder: str) -> None:
        self.leases = leases
        self.holder = holder
        self._jobs: dict[str, JobType] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def start(self) -> None:
        """Renew every third of the lease time from now on."""
        self._thread.start()

    def track(self, job_id: str, job_type: JobType) -> None:
        """Keep renewing this job's lease."""
        with self._lock:
            self._jobs[job_id] = job_type

    def tracks(self, job_id: str) -> bool:
        """Whether this process runs the job now (it renews its lease)."""
        with self._lock:
            return job_id in self._jobs

    def untrack(self, job_id: str) -> None:
        """Stop renewing this job's lease."""
        with self._lock:
            self._jobs.pop(job_id, None)

    def _loop(self) -> None:
        interval = self.leases.lease_ttl_s / 3
        while not self._stop.wait(interval):
            with self._lock:
                jobs = list(self._jobs.items())
            for job_id, job_type in jobs:
                try:
                    if not self.leases.renew(job_id, job_type, self.holder):
                        self.untrack(job_id)
                except UnavailableError as exc:
                    log.warning("cannot renew the lease of job %s: %s", job_id, exc)


@dataclass
class HousekeeperConfig:
    """What the worker's main process looks after, and how often (seconds)."""

    worker_id: str
    job_types: list[JobType]
    max_attempts: int
    interval_s: float
    watch: ConsumeWatch | None = None
    alive_file: Path | None = None
    permits: Permits | None = None  # repairs a lost permit while this worker has nothing to run


class Housekeeper:
    """Beats for this worker on its queues and frees jobs whose workers were lost."""

    def __init__(self, store: JobStore, leases: Leases, plan: HousekeeperConfig) -> None:
        self.store = store
        self.leases = leases
        self.plan = plan
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="housekeeper", daemon=True)
        self._suspects: set[JobType] = set()  # queues whose jobs waited with no message last round

    def start(self) -> None:
        """Run a round every `interval_s` from now on."""
        self._thread.start()

    def stop(self) -> None:
        """Stop, and stop counting this worker."""
        self._stop.set()
        with contextlib.suppress(UnavailableError):  # if Redis is down, the heartbeat ages out instead
            self.leases.leave(self.plan.worker_id, self.plan.job_types)

    def tick(self) -> list[str]:
        """One round: liveness, a heartbeat, then a reaper sweep; returns the job ids freed."""
        plan = self.plan
        if plan.watch is not None and plan.watch.stalled():
            log.error("jobs wait and this worker has room, but it took none for %.0f s: not alive", STALL_S)
        else:
            touch(plan.alive_file)
        self.leases.heartbeat(plan.worker_id, plan.job_types)
        for job_id in self.store.expire_overdue(time.time()):
            log.info("job %s: canceled, past its deadline", job_id)
        freed: list[str] = []
        for job_type in plan.job_types:
            for job_id in self.store.reap(job_type, max_attempts=plan.max_attempts):
                log.warning("job %s lost its worker; freed from queue %s", job_id, job_type)
                freed.append(job_id)
        self._repair_permits()
        return freed

    def _repair_permits(self) -> None:
        """Push a message for a queue whose jobs waited with none on two rounds in a row while this
        worker had nothing to run (shared/store/permits.py)."""
        plan = self.plan
        if plan.permits is None or plan.watch is None or plan.watch.busy() > 0:
            self._suspects.clear()
            return
        missing = {t for t in plan.job_types if plan.permits.missing(t)}
        for job_type in missing & self._suspects:
            if (job_id := plan.permits.top_up(job_type)) is not None:
                log.warning(
                    "queue %s: jobs waited with no task message; one pushed for job %s", job_type, job_id
                )
        self._suspects = missing

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except UnavailableError as exc:
                log.warning("housekeeping skipped: %s", exc)
            if self._stop.wait(self.plan.interval_s):
                return
