"""The batch runner process: the API's app for its services, then one turn per active batch every
POLL_S until SIGTERM or SIGINT.

It is a process of its own, like the webhook sender, so that reading and enqueuing a 50,000-line
file never holds an API worker; it lives in api/ because each line is checked and answered by the
OpenAI routes' own code (api/openai), and it loads no model library.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from api.app import create_app
from api.batches.runner import Runner
from shared import logs
from shared.errors import UnavailableError
from shared.readiness import mark_ready
from shared.settings import Settings, load_settings
from shared.storage import open_storage
from shared.store.batches import BatchStore
from shared.store.files import FileStore

log = logging.getLogger("batches")

POLL_S = 0.2  # the pause between turns (a turn enqueues up to CHUNK lines of each active batch)
OUTAGE_PAUSE_S = 1.0
ALIVE_EVERY_S = 5.0  # how often the alive file (LLMB_ALIVE_FILE) is touched while turns go on


class Heartbeat:
    """Touches the alive file (LLMB_ALIVE_FILE) after a turn, at most every ALIVE_EVERY_S."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.last = -ALIVE_EVERY_S

    def __call__(self) -> None:
        """Touch the file unless it was touched lately."""
        now = time.monotonic()
        if self.path is not None and now - self.last >= ALIVE_EVERY_S:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            self.last = now


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (the turn under way ends; no other starts)."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %s", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
    return stop


def turn(runner: Runner) -> None:
    """One turn of every active batch; a batch that fails is logged and tried again next turn."""
    for batch_id in runner.batches.active():
        try:
            runner.step(batch_id)
        except UnavailableError:
            raise
        except Exception:
            log.exception("batch %s: the turn failed", batch_id)


def run(settings: Settings, stop: threading.Event) -> None:
    """Run batches until `stop` is set."""
    app = create_app(settings)
    svc = app.extensions["llmb"]
    base = settings.public_url or f"http://{settings.api_bind}"
    runner = Runner(app, BatchStore.on(svc.pool), FileStore.on(svc.pool), open_storage(settings), base)
    try:
        while not stop.is_set():
            try:
                svc.store.ping()
                break
            except UnavailableError as exc:
                log.warning("waiting for Redis: %s", exc)
                stop.wait(OUTAGE_PAUSE_S)
        if settings.ready_file is not None:  # naming this process: a file from a previous run fails the probe
            mark_ready(settings.ready_file, os.getpid())
        log.info("running batches")
        alive = Heartbeat(settings.alive_file)
        while not stop.is_set():
            try:
                turn(runner)
            except UnavailableError as exc:
                log.warning("Redis did not answer: %s", exc)
                stop.wait(OUTAGE_PAUSE_S)
            else:
                alive()
            stop.wait(POLL_S)
    finally:
        svc.close()
    log.info("stopped")


def main() -> int:
    """Run the batch runner with the settings from the environment; 0 once stopped by a signal."""
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)  # the one handler; the app's own replaces it
    run(settings, stop_on_signals())
    return 0
