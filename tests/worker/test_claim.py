from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from shared.job_record import JobStatus
from tests.fixtures.jobs import new_record
from worker.claim import is_lost
from worker.holder import holder_is_dead, new_holder_id

ME = new_holder_id()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    ("status", "holder", "lease_in", "lost"),
    [
        ("queued", "", 0, False),
        ("succeeded", "", 0, False),
        ("canceled", "", 0, False),
        ("running", "other-host:1:abc", 30, False),
        ("running", "other-host:1:abc", -1, True),
        ("running", "", 60, True),
        pytest.param("running", ME, 30, True, id="running-me"),
    ],
)
def test_which_running_jobs_are_lost(status: str, holder: str, lease_in: float, lost: bool) -> None:
    now = time.time()
    record = new_record().model_copy(
        update={"status": JobStatus(status), "holder": holder, "lease_until": now + lease_in, "attempts": 1}
    )
    assert is_lost(record, me=ME, now=now) is lost


def test_a_dead_pid_on_this_host_releases_its_lease_at_once() -> None:
    host = socket.gethostname()
    assert holder_is_dead(f"{host}:{dead_pid()}:x", me=ME)
    assert not holder_is_dead(f"{host}:{os.getpid()}:x", me=ME)
    assert not holder_is_dead(f"elsewhere:{dead_pid()}:x", me=ME)
    assert holder_is_dead(ME, me=ME)


def test_a_delivery_naming_a_job_another_thread_of_this_process_just_claimed_leaves_it_running(
    runtime_for,
) -> None:
    # The job is claimed (by a delivery or the interactive door) and not yet handed to its run; the
    # delivery of the message that names it finds nothing waiting and looks at it: running here, not lost.
    from tests.fixtures.doubles import StepPipeline
    from tests.fixtures.jobs import submit
    from worker.claim import claim_delivered, claim_next

    rt = runtime_for(StepPipeline(), worker_pool="threads")
    job = submit(rt.store)
    claimed = claim_next(rt, job.type)
    assert claimed is not None
    assert claimed.id == job.id
    assert claim_delivered(rt, job.id, job_type=job.type) is None
    after = rt.store.get(job.id)
    assert (after.status, after.attempts, after.holder) == (JobStatus.RUNNING, 1, rt.holder)
