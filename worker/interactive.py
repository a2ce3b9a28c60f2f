"""The interactive door: a worker whose threads are all busy with batch jobs still starts an arriving
interactive job at once (issue 21's priority rule, end to end).

Celery's list is a line of permits and every delivery claims the store's first job, an interactive
one before any batch one (docs/ARCHITECTURE.md, Deliver). But a delivery comes only when a thread
of the worker is free, and a worker working through a batch backlog keeps every thread busy with
batch jobs: an interactive job would wait for one of them to end. So a threads-pool worker keeps
`door_slots` threads more that take no Celery message. They wait on the wake-ups create.lua pushes
for interactive jobs that arrive behind batch jobs (shared/store/wakes.py), claim the queue's first
interactive job without a delivery, spending its task message in the same step
(`JobStore.claim_next(door=True)`), and run it as a delivery would (worker/delivery.py:run_claimed):
in its lane's micro-batch, whose batch then takes the device before batches of batch jobs, or in
the chat engine's running batch.

A wake-up is popped only while a door thread is free, so with every door thread busy the wake-ups
wait for this worker or another. A door thread holds no permit, so a worker killed meanwhile leaves
only running jobs, which the reaper puts back in line. The door stops taking jobs at hand-back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from shared.errors import UnavailableError
from shared.job_record import JobRecord
from shared.store.wakes import InteractiveWakes
from shared.vocabulary import JobType
from worker.steps import HAND_BACK

log = logging.getLogger(__name__)

WAIT_S = 1.0  # one BLPOP's longest block: how soon a stopped door notices
RETRY_S = 1.0  # the pause after Redis did not answer


class InteractiveDoor:
    """Threads that claim interactive jobs arriving behind batch jobs and run them, `slots` at a time.

    `claim(job_type)` claims the first interactive job of that queue (None when there is none, as a
    delivery may have taken it); `run(record)` runs a claimed job. The listener claims, so the claim
    follows the wake-up without a thread switch; a door thread runs the job.
    """

    def __init__(
        self,
        wakes: InteractiveWakes,
        job_types: list[JobType],
        slots: int,
        work: tuple[Callable[[JobType], JobRecord | None], Callable[[JobRecord], None]],
    ) -> None:
        self.wakes = wakes
        self.job_types = job_types
        self.claim, self.run = work
        self._free = threading.Semaphore(slots)
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="door")
        self._stopped = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="door-listener", daemon=True)

    def start(self) -> None:
        """Start listening for wake-ups."""
        self._listener.start()

    def stop(self) -> None:
        """Take no more jobs (those running go on); returns at once."""
        self._stopped.set()

    def _open(self) -> bool:
        return not (self._stopped.is_set() or HAND_BACK.is_set())

    def _listen(self) -> None:
        """Whenever a door thread is free: pop a wake-up, claim its queue's first interactive job, and
        hand the job to that thread."""
        away = False  # Redis did not answer: said once, not every retry of a long outage
        while self._open():
            if not self._free.acquire(timeout=WAIT_S):
                continue
            try:
                job_type = self.wakes.wait(self.job_types, WAIT_S)
                record = self.claim(job_type) if job_type is not None and self._open() else None
            except UnavailableError as exc:
                if not away:
                    log.warning("interactive door: %s; trying again every %.0f s", exc, RETRY_S)
                away = True
                self._free.release()
                self._stopped.wait(RETRY_S)
                continue
            if away:
                log.info("interactive door: Redis answers again")
                away = False
            if record is None:
                self._free.release()
                continue
            self._pool.submit(self._run, record)

    def _run(self, record: JobRecord) -> None:
        try:
            self.run(record)
        except Exception:  # a job's own failure is recorded by its run; this is anything else
            log.exception("interactive door: the run of job %s failed", record.id)
        finally:
            self._free.release()
