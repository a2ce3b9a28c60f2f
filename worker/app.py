"""The worker's Celery app: the thin task, and what each process sets up when it starts."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery, signals

from shared.celery_config import make_celery
from shared.jobs import JobType
from shared.leases import Leases
from shared.queues import QUEUES, TASK_NAME, task_message
from shared.redis_conn import connect
from shared.settings import Settings
from worker.claim import new_holder_id
from worker.keeper import Housekeeper
from worker.liveness import ConsumeWatch
from worker.runner import run_job
from worker.runtime import WorkerRuntime

log = logging.getLogger(__name__)


class ProcessState:
    """The per-process runtime (built after fork) and the main process's housekeeper."""

    def __init__(self, settings: Settings, celery: Celery) -> None:
        self.settings = settings
        self.celery = celery
        self._runtime: WorkerRuntime | None = None
        self.housekeeper: Housekeeper | None = None
        self.watch: ConsumeWatch | None = None

    def runtime(self) -> WorkerRuntime:
        """This process's runtime, built on first need."""
        if self._runtime is None:
            self._runtime = WorkerRuntime.build(self.settings)
            self._runtime.keeper.start()
        return self._runtime

    def warm_up(self) -> None:
        """Load every pipeline this worker serves, then report ready through the ready file."""
        rt = self.runtime()
        try:
            for q in self.settings.queue_list:
                rt.pipelines.get(JobType(q))
        except Exception:  # the worker stays unready (its probe says so) and logs why
            log.exception("warm-up failed, the worker is not ready")
            return
        if self.settings.ready_file:
            self.settings.ready_file.parent.mkdir(parents=True, exist_ok=True)
            self.settings.ready_file.touch()
        log.info("warm-up done; ready for %s", ",".join(self.settings.queue_list))

    def start_housekeeping(self) -> None:
        """Heartbeats, the reaper and liveness run in the main process, which outlives its children."""
        from celery.worker import state as worker_state

        client = connect(self.settings.redis_url)
        self.watch = ConsumeWatch(
            client,
            queues=self.settings.queue_list,
            capacity=self.settings.concurrency,
            busy=lambda: len(worker_state.active_requests) + len(worker_state.reserved_requests),
        )
        self.housekeeper = Housekeeper(
            Leases(client, lease_ttl_s=self.settings.lease_ttl_s),
            worker_id=new_holder_id(),
            queues=self.settings.queue_list,
            message=task_message,
            interval_s=max(1.0, min(10.0, self.settings.lease_ttl_s / 3)),
            watch=self.watch,
            alive_file=self.settings.alive_file,
        )
        self.housekeeper.start()


def create_worker_app(settings: Settings) -> Celery:
    """The Celery app with the job task registered and process set-up wired to its signals."""
    app = make_celery(settings, name="llmb-worker")
    state = ProcessState(settings, app)

    @app.task(name=TASK_NAME, bind=True)
    def run_job_task(self: Any, job_id: str) -> None:
        # The queue the message came from is the job's type: it saves the claim a read.
        queue = (self.request.delivery_info or {}).get("routing_key")
        run_job(job_id, state.runtime(), queue=queue if queue in QUEUES else None)

    def on_process_init(**_: Any) -> None:
        # Celery waits only a few seconds for a new pool process, so loading runs beside it.
        threading.Thread(target=state.warm_up, name="warm-up", daemon=True).start()

    def on_ready(**_: Any) -> None:
        state.start_housekeeping()

    def on_received(**_: Any) -> None:
        if state.watch is not None:
            state.watch.received()

    def on_shutdown(**_: Any) -> None:
        if state.housekeeper:
            state.housekeeper.stop()

    signals.worker_process_init.connect(on_process_init, weak=False)
    signals.worker_ready.connect(on_ready, weak=False)
    signals.task_received.connect(on_received, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)
    return app
