"""RELIABILITY.md's fault promises, shown with real processes: kills, time limits, cancel, outages."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from devtools.stack.deployment import Stack
from shared.celery_config import make_celery
from shared.queues import TASK_NAME
from shared.redis_conn import connect
from shared.settings import load_settings
from shared.store import JobStore
from tests.integration.conftest import SCRIPTED, Api

# A pool process dies alone and the worker's main process replaces it (LLMB_WORKER_POOL=prefork).
PREFORK = {**SCRIPTED, "LLMB_WORKER_POOL": "prefork"}


def holder_pid(job: dict[str, object], stack: Stack) -> int:
    store = JobStore(connect(stack.env["LLMB_REDIS_URL"]), job_ttl_s=60)
    return int(store.get(str(job["id"])).holder.split(":")[1])


def result_files(stack: Stack, job_id: str) -> list[str]:
    folder = stack.root / "objects" / "results" / job_id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_sigkill_of_the_pool_process_mid_job_reruns_it_once(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env=PREFORK)
    job = api.submit(f"hold:{tmp_path / 'go'}", steps=3)
    api.until(job["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    os.kill(holder_pid(job, stack), signal.SIGKILL)
    api.until(job["id"], lambda j: j["attempts"] == 2)
    (tmp_path / "go").touch()
    done = api.finished(job["id"])
    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert len(done["result"]["files"]) == 1
    assert result_files(stack, job["id"]) == ["0.png"]
    # Loaded once, in the main process before the fork: the replacement pool process did not load again.
    assert worker.log().count("loading the image pipeline") == 1
    assert "pipelines loaded before the pool starts: image" in worker.log()


def test_a_job_that_kills_every_worker_fails_after_the_cap_and_others_go_on(stack: Stack) -> None:
    """prefork: the poison takes only its pool process; with threads, the worker (make chaos shows it)."""
    api = Api(stack.start_api().port)
    stack.start_worker(env=PREFORK)
    poison = api.submit("kill")
    after = api.submit("ok")
    done = api.finished(poison["id"], timeout=120)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "worker_lost"
    assert done["attempts"] == 3
    assert api.finished(after["id"])["status"] == "succeeded"


def test_a_dead_worker_s_job_is_finished_by_another_worker(stack: Stack, tmp_path: Path) -> None:
    fast_leases = {**SCRIPTED, "LLMB_LEASE_TTL_S": "3"}
    api = Api(stack.start_api().port)
    doomed = stack.start_worker(env=fast_leases, name="doomed")
    job = api.submit(f"hold:{tmp_path / 'go'}", steps=3)
    api.until(job["id"], lambda j: j["status"] == "running")
    stack.start_worker(env=fast_leases, name="survivor")
    (tmp_path / "go").touch()  # the held job would finish now, but its worker dies first
    died_at = time.monotonic()
    doomed.stop(sig=signal.SIGKILL, group=True)
    done = api.finished(job["id"], timeout=90)
    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert time.monotonic() - died_at < 60
    assert result_files(stack, job["id"]) == ["0.png"]


def test_sigterm_mid_job_hands_the_job_back_at_once_and_it_runs_next(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env=SCRIPTED, name="stopping")
    job = api.submit(f"hold:{tmp_path / 'go'}", steps=3)
    api.until(job["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    backlog = [api.submit("ok") for _ in range(3)]
    worker.stop(sig=signal.SIGTERM, timeout=30)  # to the main process, as Kubernetes sends it
    assert worker.proc.returncode == 0
    handed = api.job(job["id"])
    assert (handed["status"], handed["attempts"], handed["queue_position"]) == ("queued", 1, 1)
    (tmp_path / "go").touch()
    stack.start_worker(env=SCRIPTED, name="next")
    done = api.finished(job["id"])
    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    assert all(api.finished(j["id"])["status"] == "succeeded" for j in backlog)
    assert result_files(stack, job["id"]) == ["0.png"]


def test_sigterm_with_stop_mode_finish_lets_the_job_finish(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env={**SCRIPTED, "LLMB_STOP_MODE": "finish"})
    job = api.submit(f"hold:{tmp_path / 'go'}", steps=3)
    api.until(job["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    os.kill(worker.proc.pid, signal.SIGTERM)
    (tmp_path / "go").touch()
    assert worker.proc.wait(timeout=30) == 0
    done = api.job(job["id"])
    assert (done["status"], done["attempts"]) == ("succeeded", 1)


def test_a_job_past_its_time_limit_fails_and_the_worker_takes_the_next(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env={**SCRIPTED, "LLMB_JOB_TIME_LIMIT_S": "2"})
    slow = api.submit("hold:/nonexistent/never", steps=3)
    after = api.submit("ok")
    done = api.finished(slow["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "timeout"
    assert api.finished(after["id"])["status"] == "succeeded"


def test_cancel_running_job_stops_it_and_frees_the_worker(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    slow = api.submit("hold:/nonexistent/never", steps=50)
    after = api.submit("ok")
    api.until(slow["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    assert api.http.post(f"/v1/jobs/{slow['id']}/cancel").json()["status"] == "canceled"
    assert api.finished(after["id"], timeout=20)["status"] == "succeeded"
    stopped = api.job(slow["id"])
    assert stopped["status"] == "canceled"
    assert stopped["result"] is None
    assert stopped["progress"]["step"] < 50
    assert result_files(stack, slow["id"]) == []


def test_a_pickled_message_is_refused_and_runs_nothing(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    client = connect(stack.env["LLMB_REDIS_URL"])
    # A real queued job whose only task message is a pickle-serialized one, as an attacker with
    # access to Redis could push: were pickle accepted, the worker would run this job.
    target = api.submit("ok", width=128)  # a size of its own: no other job's batch takes it along
    assert client.delete("image") == 1  # its JSON message, removed before any worker runs
    pickler = make_celery(load_settings(redis_url=stack.env["LLMB_REDIS_URL"]))
    pickler.send_task(
        TASK_NAME, args=[target["id"]], task_id=target["id"], queue="image", serializer="pickle"
    )
    after = api.submit("ok", width=192)  # its JSON message is the only permit; no batch mate of the target
    worker = stack.start_worker(env=SCRIPTED)
    # A message is a permit for the first job in line: the JSON one runs the target, first queued.
    assert api.finished(target["id"])["status"] == "succeeded"  # the worker consumed past the pickle
    assert client.llen("image") == 0
    assert api.job(after["id"])["status"] == "queued"  # the pickled message ran nothing
    assert "Refusing to deserialize untrusted content of type pickle" in worker.log()


def test_redis_outage_answers_503_fast_then_recovers(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    assert stack.redis is not None
    port = stack.redis.port
    waiting = api.submit("ok", steps=1)
    api.finished(waiting["id"])
    stack.redis.stop()
    started = time.monotonic()
    down = api.http.post("/v1/jobs", json={"type": "image", "input": {"prompt": "ok"}})
    assert down.status_code == 503
    assert time.monotonic() - started < 2
    assert down.headers["content-type"] == "application/problem+json"
    assert api.http.get("/health").status_code == 200
    assert api.http.get("/ready").status_code == 503
    stack.services.remove(stack.redis)
    stack.start_redis(port=port, appendonly=True)
    assert api.http.get("/ready").status_code == 200
    assert api.job(waiting["id"])["status"] == "succeeded"  # AOF kept it
    again = api.submit("ok")
    assert api.finished(again["id"], timeout=60)["status"] == "succeeded"


def test_one_worker_process_owns_the_device_loads_once_and_runs_jobs_side_by_side(
    stack: Stack, tmp_path: Path
) -> None:
    """LLMB_WORKER_POOL=threads (the default), with preloading off as `auto` leaves it on a CUDA device: the
    worker's one process loads the pipeline once and runs a held job and later ones beside it."""
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env={**SCRIPTED, "LLMB_PRELOAD": "off", "LLMB_CONCURRENCY": "4"})
    held = api.submit(f"hold:{tmp_path / 'go'}", steps=2)
    api.until(held["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    assert holder_pid(held, stack) == worker.proc.pid  # the worker itself, no pool process
    others = [api.submit("ok", width=96) for _ in range(3)]  # another batch key: they wait for the device
    api.until(others[0]["id"], lambda j: j["status"] == "running")
    (tmp_path / "go").touch()
    assert [api.finished(j["id"])["status"] for j in [held, *others]] == ["succeeded"] * 4
    children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text().split()
    assert children == []
    log = worker.log()
    assert log.count("loading the image pipeline") == 1
    assert "pipelines loaded before the pool starts" not in log
    assert "nothing to do" not in log  # every delivery ran a job
