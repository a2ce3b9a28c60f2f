"""The sender process: settings, Redis, the loop, files for probes; it stops on SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from shared.errors import UnavailableError
from shared.readiness import mark_ready
from shared.redis_conn import connect
from shared.settings import Settings, load_settings
from shared.store import JobStore
from shared.store.batches import BatchStore
from shared.store.webhooks import WebhookStore
from webhooks.loop import OUTAGE_PAUSE_S, Loop
from webhooks.notices import Notices
from webhooks.post import client
from webhooks.sender import Sender

log = logging.getLogger("webhooks")

# The alive file is touched at most this often (a probe allows a minute).
ALIVE_EVERY_S = 5.0


class Heartbeat:
    """Touches the alive file (LLMB_ALIVE_FILE) while the loop turns, at most every ALIVE_EVERY_S."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.last = 0.0

    def __call__(self) -> None:
        """Touch the file unless it was touched lately."""
        now = time.monotonic()
        if self.path is not None and now - self.last >= ALIVE_EVERY_S:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            self.last = now


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (the tries under way then end; nothing new starts)."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %s", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
    return stop


def reach_redis(jobs: JobStore, stop: threading.Event) -> bool:
    """Wait until Redis answers (True), or until told to stop (False)."""
    while not stop.is_set():
        try:
            jobs.ping()
            return True
        except UnavailableError as exc:
            log.warning("waiting for Redis: %s", exc)
            stop.wait(OUTAGE_PAUSE_S)
    return False


def run(settings: Settings, stop: threading.Event) -> None:
    """Deliver webhooks until `stop` is set."""
    redis = connect(settings, max_connections=settings.redis_max_connections)
    jobs = JobStore(redis, job_ttl_s=settings.job_ttl_s)
    deliveries = WebhookStore(redis, job_ttl_s=settings.job_ttl_s)
    try:
        if not reach_redis(jobs, stop):
            return
        if settings.ready_file is not None:  # naming this process: a file from a previous run fails the probe
            mark_ready(settings.ready_file, os.getpid())
        log.info(
            "delivering webhooks (timeout %s s, retried for %s s)",
            settings.webhook_timeout_s,
            settings.webhook_retry_for_s,
        )
        with client(settings.webhook_timeout_s) as http:
            notices = Notices(BatchStore(redis), jobs, settings.budget_alert_webhook)
            sender = Sender(jobs, deliveries, settings, http, notices=notices)
            Loop(sender, deliveries, stop=stop, alive=Heartbeat(settings.alive_file)).run()
    finally:
        redis.connection_pool.disconnect()
    log.info("stopped")


def main() -> int:
    """Run the sender with the settings from the environment; 0 once stopped by a signal."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(settings, stop_on_signals())
    return 0
