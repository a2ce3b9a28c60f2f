from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from shared.jobs import JobStatus
from tests.fixtures.jobs import new_record
from worker.claim import Decision, decide
from worker.holder import holder_is_dead, new_holder_id

ME = new_holder_id()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    ("status", "holder", "lease_in", "attempts", "expected"),
    [
        ("queued", "", 0, 0, Decision.START),
        ("succeeded", "", 0, 1, Decision.SKIP),
        ("failed", "", 0, 1, Decision.SKIP),
        ("canceled", "", 0, 0, Decision.SKIP),
        ("running", "other-host:1:abc", 30, 1, Decision.SKIP),
        ("running", "other-host:1:abc", -1, 1, Decision.TAKE_OVER),
        ("running", "", 60, 1, Decision.TAKE_OVER),
        pytest.param("running", ME, 30, 1, Decision.TAKE_OVER, id="running-me-30-1-TAKE_OVER"),
        ("running", "other-host:1:abc", -1, 3, Decision.FAIL_LOST),
        ("running", "", 60, 3, Decision.FAIL_LOST),
    ],
)
def test_decisions(status: str, holder: str, lease_in: float, attempts: int, expected: Decision) -> None:
    now = time.time()
    record = new_record().model_copy(
        update={
            "status": JobStatus(status),
            "holder": holder,
            "lease_until": now + lease_in,
            "attempts": attempts,
        }
    )
    assert decide(record, holder=ME, max_attempts=3, now=now) is expected


def test_a_dead_pid_on_this_host_releases_its_lease_at_once() -> None:
    host = socket.gethostname()
    assert holder_is_dead(f"{host}:{dead_pid()}:x", me=ME)
    assert not holder_is_dead(f"{host}:{os.getpid()}:x", me=ME)
    assert not holder_is_dead(f"elsewhere:{dead_pid()}:x", me=ME)
    assert holder_is_dead(ME, me=ME)
