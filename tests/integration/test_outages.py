"""Transient faults never cost an attempt (issue 9): Redis stopped and started under running jobs."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from devtools.stack.deployment import Stack
from devtools.stack.process import wait_until
from shared.redis_conn import connect
from tests.integration.conftest import SCRIPTED, Api

BATCHED = {**SCRIPTED, "LLMB_BATCH_MAX": "4", "LLMB_BATCH_WAIT_MS": "0"}


def held_batch(api: Api, tmp_path: Path, n: int) -> list[dict[str, object]]:
    """`n` jobs running together as one batch, held at step 1 until tmp_path/go exists."""
    blocker = api.submit(f"hold:{tmp_path / 'first'}", width=128)  # keeps the worker busy while they line up
    api.until(blocker["id"], lambda j: j["status"] == "running")
    jobs = [api.submit(f"hold:{tmp_path / 'go'}", steps=3) for _ in range(n)]
    # Each is claimed into the worker's open micro-batch (it cannot run while the blocker holds the
    # device) before the blocker goes: a delivery late to the batch would run after it, held for ever.
    for job in jobs:
        api.until(str(job["id"]), lambda j: j["status"] == "running")
    (tmp_path / "first").touch()
    for job in jobs:
        api.until(str(job["id"]), lambda j: (j["progress"] or {}).get("step", 0) >= 1, timeout=60)
    return jobs


def test_a_batch_that_finishes_during_a_redis_outage_succeeds_after_it_with_one_attempt(
    stack: Stack, tmp_path: Path
) -> None:
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env=BATCHED)
    jobs = held_batch(api, tmp_path, 3)
    port = stack.stop_redis()
    (tmp_path / "go").touch()  # the batch computes to its end while Redis is away
    wait_until(lambda: "trying again" in worker.log(), timeout=30, what="the worker's retry of its writes")
    stack.start_redis(port=port, appendonly=True)
    done = [api.finished(str(j["id"]), timeout=60) for j in jobs]
    assert [(j["status"], j["attempts"]) for j in done] == [("succeeded", 1)] * 3
    assert "worker_lost" not in worker.log()
    assert "retrying it in halves" not in worker.log()  # the batch ran once: its reports waited for Redis


def test_workers_consume_again_within_seconds_of_a_long_outage_ending(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    assert api.finished(str(api.submit("ok")["id"]))["status"] == "succeeded"
    port = stack.stop_redis()
    # The outage itself. Celery's own pauses (2, 4, 6, 8, 10 s) would try again at 20 s, then at 30 s:
    # 9 s after Redis returns at 21 s.
    time.sleep(21)
    stack.start_redis(port=port, appendonly=True)
    back = time.monotonic()
    job = api.submit("ok")
    api.until(str(job["id"]), lambda j: j["status"] != "queued", timeout=60)
    assert time.monotonic() - back < 6  # LLMB_RECONNECT_MAX_S caps the pause at 2 s


def test_dropping_every_client_connection_does_not_stall_the_worker(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    running = api.submit(f"hold:{tmp_path / 'go'}", steps=3)
    api.until(str(running["id"]), lambda j: j["status"] == "running")
    admin = connect(stack.env["LLMB_REDIS_URL"])
    for kind in ("normal", "pubsub"):  # what a restart, a failover or a proxy's idle timeout does
        admin.execute_command("CLIENT", "KILL", "TYPE", kind, "SKIPME", "yes")
    (tmp_path / "go").touch()
    assert api.finished(str(running["id"]))["status"] == "succeeded"
    after = [api.submit("ok") for _ in range(5)]
    assert [api.finished(str(j["id"]), timeout=60)["status"] for j in after] == ["succeeded"] * 5
    admin.close()


def test_a_lost_worker_s_job_runs_before_the_backlog(stack: Stack, tmp_path: Path) -> None:
    # One delivery at a time: the survivor's first delivery is the only one that can run ahead of it.
    fast = {**SCRIPTED, "LLMB_LEASE_TTL_S": "3", "LLMB_BATCH_MAX": "1", "LLMB_CONCURRENCY": "1"}
    api = Api(stack.start_api().port)
    doomed = stack.start_worker(env=fast, name="doomed")
    lost = api.submit(f"hold:{tmp_path / 'never'}", width=128)
    api.until(str(lost["id"]), lambda j: j["status"] == "running")
    backlog = [api.submit(f"hold:{tmp_path / 'backlog'}") for _ in range(20)]
    doomed.stop(sig=signal.SIGKILL, group=True)
    (tmp_path / "never").touch()  # the lost job would finish now, on whichever worker runs it again
    stack.start_worker(env=fast, name="survivor")
    # Reaped (by the survivor's housekeeping) either before its first delivery, which then runs it, or
    # while that delivery holds backlog[0]: then it waits first in line.
    freed = api.until(str(lost["id"]), lambda j: j["status"] == "queued" or j["attempts"] == 2, timeout=60)
    if freed["status"] == "queued":
        assert (freed["attempts"], freed["queue_position"]) == (1, 1)  # waiting again, first in line
    (tmp_path / "backlog").touch()
    done = api.finished(str(lost["id"]), timeout=90)
    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    later = [api.finished(str(job["id"]), timeout=90) for job in backlog[1:]]
    assert all(str(done["started_at"]) < str(job["started_at"]) for job in later)  # before the backlog


def test_a_restarted_worker_is_neither_ready_nor_alive_until_it_shows_it(stack: Stack) -> None:
    ready, alive = stack.root / "ready" / "restarted", stack.root / "alive-restarted"
    for marker in (ready, alive):  # what a container restart leaves in a kept folder
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    slow = {
        "LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:SlowStartImagePipeline",
        "LLMB_ALIVE_FILE": str(alive),
    }
    stack.start_worker(env=slow, name="restarted", wait=False)
    wait_until(lambda: not ready.exists() and not alive.exists(), timeout=30, what="the old markers' removal")
    assert not ready.exists()  # its pipeline is still loading: it waits for let-load
    (stack.root / "let-load").touch()
    wait_until(ready.exists, timeout=60, what="readiness once loaded")
    assert ready.exists()
