"""Child processes that cannot outlive their parent: each in its own process group, each with a log file."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from redis.exceptions import RedisError

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
T = TypeVar("T")
POLL_S = 0.05
# What a check raises while what it asks is not up yet (or, in the chaos soak, briefly down): not yet.
NOT_YET: tuple[type[Exception], ...] = (OSError, httpx.TransportError, RedisError)


class InterruptedWaitError(Exception):
    """A wait gave up because the supervisor was asked to stop."""


def never() -> bool:
    """A stop request that never comes."""
    return False


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> Callable[[], bool]:
    """A check that something accepts connections on 127.0.0.1:`port`."""

    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    return check


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    interrupted: Callable[[], bool] = never,
    every: float = POLL_S,
) -> T:
    """`check`'s first truthy answer, asked every `every` s: the one way devtools and the tests wait.

    A check raising one of NOT_YET counts as "not yet". Raises TimeoutError naming `what` past `timeout`
    seconds, RuntimeError as soon as `proc` exited, InterruptedWaitError as soon as `interrupted` holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        if interrupted():
            raise InterruptedWaitError(f"asked to stop while waiting for {what}")
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(*NOT_YET):
            if found := check():
                return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(every)


@dataclass
class Service:
    """A child process (the leader of its own process group) with its log file; stopping it is idempotent."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    ready: Callable[[], bool] | None = None
    grace_s: float = 20.0

    @property
    def pid(self) -> int:
        """The main process's id, which is also its process group's."""
        return self.proc.pid

    def stop(
        self,
        *,
        timeout: float | None = None,
        sig: int = signal.SIGTERM,
        group: bool = False,
        hurry: Callable[[], bool] = never,
    ) -> None:
        """Send `sig` to the main process (as Kubernetes does) or its group; after `timeout` (its grace by
        default) or as soon as `hurry` holds, SIGKILL whatever is left of the group, then reap."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                (os.killpg if group else os.kill)(self.pid, sig)
            deadline = time.monotonic() + (self.grace_s if timeout is None else timeout)
            while self.proc.poll() is None and time.monotonic() < deadline and not hurry():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=0.1)
        # Whatever is left of the group (a stuck main process, children it left behind) goes now.
        self.kill_group()
        self.proc.wait(timeout=5)

    def kill_group(self) -> None:
        """SIGKILL every process still in this service's group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def log(self) -> str:
        """Everything this run of the service wrote."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def die_with_parent(parent: int) -> Callable[[], None]:
    """What a child runs before exec: ask the kernel for SIGTERM when its parent (thread) ends.

    SIGTERM, not SIGKILL: gunicorn's master, Celery's main process and Redis then stop their own
    children. The kernel sends it when the thread that started the child ends, so start services
    from a thread that lives as long as they should (the main thread, here and in the tests).
    """

    def prepare() -> None:
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return prepare


def spawn(
    name: str,
    cmd: list[str],
    *,
    log_dir: Path,
    env: dict[str, str] | None = None,
    port: int = 0,
    cwd: Path | None = None,
) -> Service:
    """Start `cmd` in a process group of its own that dies with us; output to a fresh `log_dir/name.log`.

    The previous run's log is kept as `name.log.1`.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    if log_path.exists():
        log_path.replace(log_path.with_name(f"{log_path.name}.1"))
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()),  # noqa: PLW1509 (no threads start services)
        )
    return Service(name=name, proc=proc, log_path=log_path, port=port)
