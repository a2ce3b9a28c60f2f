"""`make run`'s supervision: stop signals counted, never raised; one run per data folder; the ordered stop."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from devtools.stack.deployment import Stack

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WORKER_GRACE_S = 30.0  # a running job finishes or is handed back to the queue
API_GRACE_S = 10.0  # requests in flight (long-waits, event streams) end
WEBHOOKS_GRACE_S = 10.0  # deliveries under way end (an unfinished one is sent again later)
REDIS_GRACE_S = 10.0  # the append-only file is flushed
HURRIED_GRACE_S = 2.0  # for each service still running after a second signal


class StopRequests:
    """The stop signals received so far. The handler only counts, so no signal can break a stop under way."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        """Count SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) from now on."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._received)

    def _received(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1

    def __call__(self) -> bool:
        """Whether a stop was asked for."""
        return self.count > 0

    def more_than(self, seen: int) -> Callable[[], bool]:
        """A check that another signal came after the first `seen`."""
        return lambda: self.count > seen


class RunLockedError(RuntimeError):
    """Another `make run` holds this data folder."""


def hold_run_lock(root: Path) -> int:
    """Lock root/run.lock for as long as this process lives (the kernel drops it when we die); its fd.

    The file names the holder's pid; the descriptor is not inherited, so services never hold it.
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunLockedError(
            f"another `make run` (pid {holder}) is using {root}: stop it first (Ctrl-C in its terminal,"
            f" or kill {holder}); two runs on one data folder would share Redis's append-only file"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def stop_all(stack: Stack, requests: StopRequests, say: Callable[[str], None]) -> None:
    """Stop the services, the last started first (worker, webhook sender, API, Redis), each within its grace.

    Each further signal cuts the current wait short (SIGKILL of that service's group) and leaves every
    service after it HURRIED_GRACE_S: a second Ctrl-C means faster, never abandon.
    """
    while stack.services:
        svc = stack.services.pop()
        seen = requests.count
        grace = svc.grace_s if seen <= 1 else HURRIED_GRACE_S
        if svc.proc.poll() is None:
            say(f"stopping {svc.name} (pid {svc.pid}; up to {grace:.0f} s, Ctrl-C again to hurry)")
        try:
            svc.stop(timeout=grace, hurry=requests.more_than(seen))
        except subprocess.TimeoutExpired:  # SIGKILLed yet not reaped: stuck in the kernel; go on
            say(f"{svc.name} (pid {svc.pid}) did not end after SIGKILL")
