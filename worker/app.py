"""The worker's Celery app: the thin task, and what each process sets up when it starts and stops."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import threading
from functools import partial
from typing import Any

import billiard.process
from celery import Celery, signals
from celery.exceptions import Reject

from shared import logs
from shared.celery_config import make_celery
from shared.errors import UnavailableError
from shared.queues import TASK_NAME
from shared.readiness import mark_ready
from shared.redis_conn import connect, connect_blocking
from shared.settings import Settings
from shared.store import JobStore, Leases
from shared.store.permits import Permits
from shared.store.wakes import InteractiveWakes
from shared.vocabulary import JobType
from worker.consumer import consumer_class
from worker.delivery import claim_at_door, run_claimed, run_job
from worker.holder import new_holder_id
from worker.interactive import InteractiveDoor
from worker.keeper import Housekeeper, HousekeeperConfig
from worker.liveness import ConsumeWatch
from worker.metrics import process_exited
from worker.preload import Preloaded, preload
from worker.runtime import WorkerRuntime
from worker.slots import deliveries, door_slots
from worker.steps import HAND_BACK

log = logging.getLogger(__name__)

# The main process asks its pool processes to hand their running jobs back with this signal.
HAND_BACK_SIGNAL = signal.SIGUSR2


class ProcessState:
    """The per-process runtime (built after fork) and the main process's housekeeper."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runtime: WorkerRuntime | None = None
        self.housekeeper: Housekeeper | None = None
        self.watch: ConsumeWatch | None = None
        self.preloaded: Preloaded | None = None
        self.door: InteractiveDoor | None = None
        self._lock = threading.Lock()
        self.preforked = settings.worker_pool == "prefork"
        self.loaded = False  # threads: every pipeline loaded before the consumer started

    def runtime(self) -> WorkerRuntime:
        """This process's runtime, built on first need (by one thread, when deliveries run on threads)."""
        with self._lock:
            if self._runtime is None:
                pipelines = self.preloaded.pipelines if self.preloaded else None
                self._runtime = WorkerRuntime.build(self.settings, pipelines=pipelines)
                self._runtime.keeper.start()
            return self._runtime

    def warm_up(self) -> None:
        """Load every pipeline this worker serves, then report ready through the ready file."""
        if self.load():
            self.report_ready()

    def load_before_consuming(self) -> None:
        """threads: this very process runs the jobs, so it loads them before it consumes (no permit
        waits for a model); prefork: load in the main process before the fork, where `auto` wants it."""
        if self.preforked:
            self.preloaded = preload(self.settings)
        else:
            self.loaded = self.load()
        # What is loaded now lives as long as the process: out of the collector's sight, a full
        # collection no longer walks the models' and libraries' objects (tens of ms, every thread
        # paused) and, before a fork, pool processes share those pages (Python's gc.freeze docs).
        gc.freeze()

    def load(self) -> bool:
        """Load every pipeline this worker serves; False (logged, the worker stays unready) if one fails."""
        rt = self.runtime()
        try:
            for job_type in self.settings.job_types:
                rt.pipelines.get(job_type)
        except Exception:  # the worker stays unready (its probe says so) and logs why
            log.exception("warm-up failed, the worker is not ready")
            return False
        return True

    def report_ready(self) -> None:
        """Write the ready file, naming the worker's main process."""
        if self.settings.ready_file:
            # It names the worker's main process (with prefork, this pool process's parent, which
            # outlives the pool's processes): the file a restarted container finds from its previous
            # run names a gone one.
            mark_ready(self.settings.ready_file, pid=os.getppid() if self.preforked else os.getpid())
        log.info("warm-up done; ready for %s", ",".join(self.settings.job_types))

    def open_door(self) -> None:
        """threads: start claiming interactive jobs that arrive behind batch jobs (worker/interactive.py)."""
        slots = door_slots(self.settings)
        if slots:
            wakes = InteractiveWakes(connect_blocking(self.settings))
            rt = self.runtime()
            work = (partial(claim_at_door, rt), partial(run_claimed, rt))
            self.door = InteractiveDoor(wakes, self.settings.job_types, slots, work)
            self.door.start()

    def start_housekeeping(self) -> None:
        """Heartbeats, the reaper and liveness run in the main process, which outlives its children."""
        from celery.worker import state as worker_state

        client = connect(self.settings)
        store = JobStore(client, job_ttl_s=self.settings.job_ttl_s)
        self.watch = ConsumeWatch(
            store,
            job_types=self.settings.job_types,
            capacity=deliveries(self.settings),
            busy=lambda: len(worker_state.active_requests) + len(worker_state.reserved_requests),
        )
        plan = HousekeeperConfig(
            worker_id=new_holder_id(),
            job_types=self.settings.job_types,
            max_attempts=self.settings.max_attempts,
            interval_s=max(1.0, min(10.0, self.settings.lease_ttl_s / 3)),
            watch=self.watch,
            alive_file=self.settings.alive_file,
            permits=Permits(client),
        )
        self.housekeeper = Housekeeper(store, Leases(client, lease_ttl_s=self.settings.lease_ttl_s), plan)
        self.housekeeper.start()


def hand_back_running_jobs(*, threads: bool) -> None:
    """Stop the running jobs at their next step and put them back in line (first): in this process
    when its threads run them, else in every pool process, through HAND_BACK_SIGNAL."""
    if threads:
        HAND_BACK.set()
        return
    for child in billiard.process.active_children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, HAND_BACK_SIGNAL)


def create_worker_app(settings: Settings) -> Celery:
    """The Celery app with the job task registered and process set-up wired to its signals."""
    app = make_celery(settings, name="llmb-worker")
    state = ProcessState(settings)

    app.conf.worker_consumer = consumer_class(settings.reconnect_max_s)

    @app.task(name=TASK_NAME, bind=True)
    def run_job_task(self: Any, job_id: str) -> None:
        # The queue the message came from is the job's type: it saves the claim a read.
        routing = str((self.request.delivery_info or {}).get("routing_key"))
        job_type = JobType(routing) if routing in set(JobType) else None
        if HAND_BACK.is_set():  # stopping: the permit goes back for another worker; no job is claimed
            raise Reject("the worker is stopping", requeue=True)
        try:
            run_job(job_id, state.runtime(), job_type=job_type)
        except UnavailableError as exc:  # Redis stayed away: the message goes back, the job is not lost
            raise Reject(str(exc), requeue=True) from exc

    _connect_signals(state)
    return app


def _keep_our_logging(**_: Any) -> None:
    """Celery configures no logging when this answers its setup_logging signal: shared/logs.py's stays."""


def _warm_up_beside(state: ProcessState) -> None:
    """Load the pipelines in a thread: Celery goes on starting (a pool process is given seconds only)."""
    threading.Thread(target=state.warm_up, name="warm-up", daemon=True).start()


def _connect_signals(state: ProcessState) -> None:
    threads = state.settings.worker_pool == "threads"

    def on_process_init(**_: Any) -> None:
        signal.signal(HAND_BACK_SIGNAL, lambda *_: HAND_BACK.set())
        if state.preloaded is not None:
            state.preloaded.adopt()
        _warm_up_beside(state)

    def on_ready(**_: Any) -> None:
        state.start_housekeeping()
        if threads and state.loaded:  # each pipeline loaded once, in this process, whatever the device
            state.open_door()
            state.report_ready()

    def on_received(**_: Any) -> None:
        if state.watch is not None:
            state.watch.received()

    def on_shutting_down(**_: Any) -> None:
        if state.door is not None:
            state.door.stop()
        if state.settings.stop_mode == "hand_back":
            hand_back_running_jobs(threads=threads)

    def on_shutdown(**_: Any) -> None:
        if state.housekeeper:
            state.housekeeper.stop()

    signals.setup_logging.connect(_keep_our_logging, weak=False)
    signals.task_prerun.connect(lambda **_: logs.unbind(), weak=False)
    signals.task_postrun.connect(lambda **_: logs.unbind(), weak=False)  # after Celery's "succeeded" line
    signals.worker_process_shutdown.connect(lambda **_: process_exited(os.getpid()), weak=False)
    signals.worker_init.connect(lambda **_: state.load_before_consuming(), weak=False)
    signals.worker_process_init.connect(on_process_init, weak=False)
    signals.worker_ready.connect(on_ready, weak=False)
    signals.task_received.connect(on_received, weak=False)
    signals.worker_shutting_down.connect(on_shutting_down, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)
