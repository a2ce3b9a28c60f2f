"""`make run` (`python -m devtools.stack`) started for real: its output followed, its processes known."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools import REPO
from devtools.stack.process import free_port, wait_until
from tests.devtools.stack.processes import Proc, processes, services_of, wait_all_gone

SCRIPTED = {"LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:ScriptedImagePipeline"}
READY = "LLM Backend is ready"
START_S = 120.0  # Redis, the API and a scripted worker, on a loaded 2-core machine
STOP_S = 60.0


class MakeRun:
    """One `python -m devtools.stack` on its own ports, its output read as it comes (from a pty if asked)."""

    def __init__(self, root: Path, *, port: int, settings: dict[str, str], terminal: bool) -> None:
        self.root, self.port = root, port
        cmd = [sys.executable, "-m", "devtools.stack", "--root", str(root), "--port", str(port)]
        cmd += ["--queues", "image", "--redis-port", str(free_port())]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
        env.update(PYTHONPATH=str(REPO), **SCRIPTED, **settings)
        self.fd, theirs = os.openpty() if terminal else os.pipe()
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=theirs,
            stderr=theirs,
            start_new_session=True,
        )
        os.close(theirs)
        self.chunks: list[bytes] = []
        self.reading = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.services: list[Proc] = []

    def _read(self) -> None:
        while self.reading:
            if not select.select([self.fd], [], [], 0.1)[0]:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: nothing writes to the pty any more
                return
            if not data:
                return
            self.chunks.append(data)

    @property
    def output(self) -> str:
        """Everything it printed so far."""
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for(self, text: str, *, timeout: float = START_S) -> str:
        """Wait until a line containing `text` was printed; that line (AssertionError if it never is)."""

        def printed() -> str | None:
            found = [line for line in self.output.splitlines() if text in line]
            if not found and self.proc.poll() is not None and not self.reader.is_alive():
                raise self._never(text)
            return found[0] if found else None

        try:
            return wait_until(printed, timeout=timeout, what=f"{text!r} printed")
        except TimeoutError:
            raise self._never(text) from None

    def _never(self, text: str) -> AssertionError:
        return AssertionError(f"never printed {text!r} (exit {self.proc.poll()}):\n{self.output[-4000:]}")

    def ready(self) -> None:
        """Wait for the ready text, then note every process of its five services."""
        self.wait_for(READY)
        self.services = self.processes_now()
        # Redis, the API, the webhook sender, the batch runner and the worker.
        assert len({p.pgrp for p in self.services}) == 5, self.services

    def processes_now(self) -> list[Proc]:
        """The services' processes right now."""
        return services_of(self.proc.pid)

    def signal(self, sig: int) -> None:
        """Send `sig` to make run's own process, as a terminal or make does."""
        os.kill(self.proc.pid, sig)

    def exited(self, *, timeout: float = STOP_S) -> int:
        """Its exit code, once it exits within `timeout`."""
        return self.proc.wait(timeout=timeout)

    def hang_up(self) -> None:
        """Close the terminal it prints to, then send the SIGHUP a closing terminal sends."""
        self.stop_reading()
        self.signal(signal.SIGHUP)

    def assert_nothing_left(self, *, timeout: float = STOP_S) -> None:
        """No process of its services runs, nor any other process in their groups."""
        wait_all_gone(self.services, timeout=timeout)
        groups = {p.pgrp for p in self.services}
        assert not [p for p in processes() if p.pgrp in groups]

    def stop_reading(self) -> None:
        """Stop following the output and close our end of it."""
        if self.reading:
            self.reading = False
            self.reader.join()
            os.close(self.fd)

    def close(self) -> None:
        """Whatever a failed test left running goes now."""
        for pid in [self.proc.pid, *(p.pgrp for p in self.services)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.proc.wait()
        self.stop_reading()


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Callable[..., MakeRun]]:
    """Starts `make run`s (on tmp_path/var unless told); each is killed with its services at the end."""
    runs: list[MakeRun] = []

    def start(
        *,
        root: Path | None = None,
        port: int = 0,
        settings: dict[str, str] | None = None,
        terminal: bool = False,
    ) -> MakeRun:
        run = MakeRun(
            root or tmp_path / "var", port=port or free_port(), settings=settings or {}, terminal=terminal
        )
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()
