"""Background threads: lease renewal in each pool process, heartbeats and the reaper in the main one."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from shared.errors import UnavailableError
from shared.leases import Leases
from worker.liveness import STALL_S, ConsumeWatch, touch

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews the leases of the jobs this process runs, so the reaper leaves them alone."""

    def __init__(self, leases: Leases, holder: str) -> None:
        self.leases = leases
        self.holder = holder
        self._jobs: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def track(self, job_id: str, queue: str) -> None:
        with self._lock:
            self._jobs[job_id] = queue

    def untrack(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def _loop(self) -> None:
        interval = self.leases.lease_ttl_s / 3
        while not self._stop.wait(interval):
            with self._lock:
                jobs = list(self._jobs.items())
            for job_id, queue in jobs:
                try:
                    if not self.leases.renew(job_id, queue, self.holder):
                        self.untrack(job_id)
                except UnavailableError as exc:
                    log.warning("cannot renew the lease of job %s: %s", job_id, exc)


class Housekeeper:
    """Beats for this worker on its queues and frees jobs whose workers were lost."""

    def __init__(
        self,
        leases: Leases,
        *,
        worker_id: str,
        queues: list[str],
        message: Callable[[str, str], bytes],
        interval_s: float,
        watch: ConsumeWatch | None = None,
        alive_file: Path | None = None,
    ) -> None:
        self.leases = leases
        self.watch = watch
        self.alive_file = alive_file
        self.worker_id = worker_id
        self.queues = queues
        self.message = message
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="housekeeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(UnavailableError):  # if Redis is down, the heartbeat ages out instead
            self.leases.leave(self.worker_id, self.queues)

    def tick(self) -> list[str]:
        """One round: liveness, a heartbeat, then a reaper sweep; returns the job ids sent again."""
        if self.watch is not None and self.watch.stalled():
            log.error("jobs wait and this worker has room, but it took none for %.0f s: not alive", STALL_S)
        else:
            touch(self.alive_file)
        self.leases.heartbeat(self.worker_id, self.queues)
        freed: list[str] = []
        for q in self.queues:
            for job_id in self.leases.reap(q, functools.partial(self._message_for, queue=q)):
                log.warning("job %s lost its worker; sent again to queue %s", job_id, q)
                freed.append(job_id)
        return freed

    def _message_for(self, job_id: str, *, queue: str) -> bytes:
        return self.message(job_id, queue)

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except UnavailableError as exc:
                log.warning("housekeeping skipped: %s", exc)
            if self._stop.wait(self.interval_s):
                return
