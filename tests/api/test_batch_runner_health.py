"""The batch runner's health files, which its Kubernetes probes and compose healthcheck read."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from api.batches.main import run
from devtools.stack.process import wait_until
from shared.settings import Settings


def test_the_runner_writes_its_ready_file_and_keeps_its_alive_file_fresh(
    settings: Settings, tmp_path: Path
) -> None:
    ready, alive = tmp_path / "run" / "ready", tmp_path / "run" / "alive"
    alive.parent.mkdir()
    alive.touch()
    os.utime(alive, (1.0, 1.0))  # a file left by an earlier run, long stale
    configured = settings.model_copy(update={"ready_file": ready, "alive_file": alive})
    stop = threading.Event()
    runner = threading.Thread(target=run, args=(configured, stop))
    runner.start()
    try:
        wait_until(ready.exists, timeout=60, what="the runner's ready file")
        wait_until(lambda: alive.stat().st_mtime > 1.0, timeout=60, what="a fresh alive file")
    finally:
        stop.set()
        runner.join(timeout=60)
    assert not runner.is_alive()
