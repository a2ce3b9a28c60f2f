"""The ordered stop and the run lock, with small stand-in processes instead of the services."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from devtools.stack.deployment import Stack
from devtools.stack.process import Service, spawn, wait_until
from devtools.stack.supervisor import HURRIED_GRACE_S, RunLockedError, StopRequests, hold_run_lock, stop_all
from tests.devtools.stack.processes import processes

# A service that ignores SIGTERM, as a worker busy with a long job may seem to.
STUBBORN = "; ".join(
    [
        "import signal, time",
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
        "print('ready', flush=True)",
        "time.sleep(600)",
    ]
)


def stubborn(stack: Stack, name: str, grace_s: float) -> Service:
    svc = spawn(name, [sys.executable, "-c", STUBBORN], log_dir=stack.root / "logs")
    svc.grace_s = grace_s
    stack.services.append(svc)
    wait_until(lambda: "ready" in svc.log(), timeout=30, what=name, proc=svc.proc)
    return svc


def test_a_second_signal_kills_the_service_being_stopped_and_hurries_the_rest(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    redis, worker = stubborn(stack, "redis", 60), stubborn(stack, "worker", 60)
    requests = StopRequests()
    requests.count = 1  # the first Ctrl-C
    said: list[str] = []

    def say(text: str) -> None:
        said.append(text)
        if len(said) == 1:
            requests.count += 1  # the second Ctrl-C, while the worker is being stopped

    began = time.monotonic()
    stop_all(stack, requests, say)
    assert time.monotonic() - began < 30  # not the 60 s grace of either
    assert said[0].startswith(f"stopping worker (pid {worker.pid}; up to 60 s")
    assert said[1].startswith(f"stopping redis (pid {redis.pid}; up to {HURRIED_GRACE_S:.0f} s")
    assert worker.proc.returncode == redis.proc.returncode == -9
    assert stack.services == []
    assert not [p for p in processes() if p.pgrp in (worker.pid, redis.pid)]


def test_a_service_that_stops_on_sigterm_gets_no_sigkill(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    svc = spawn("polite", [sys.executable, "-c", "import time; time.sleep(600)"], log_dir=tmp_path)
    stack.services.append(svc)
    stop_all(stack, StopRequests(), lambda text: None)
    assert svc.proc.returncode == -15


def test_the_run_lock_names_its_holder_and_goes_with_it(tmp_path: Path) -> None:
    held = hold_run_lock(tmp_path)
    with pytest.raises(RunLockedError, match=r"another `make run` \(pid \d+\) is using"):
        hold_run_lock(tmp_path)
    os.close(held)  # what the kernel does when the holder dies
    os.close(hold_run_lock(tmp_path))
