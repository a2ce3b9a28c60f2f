"""RELIABILITY.md's fault promises, shown with real processes: kills, time limits, cancel, outages."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from devtools.stack import Stack
from shared import keys
from shared.celery_config import make_celery
from shared.queues import TASK_NAME
from shared.redis_conn import connect
from shared.settings import load_settings
from shared.store import JobStore
from tests.integration.conftest import SCRIPTED, Api


def holder_pid(job: dict[str, object], stack: Stack) -> int:
    store = JobStore(connect(stack.env["LLMB_REDIS_URL"]), job_ttl_s=60)
    return int(store.get(str(job["id"])).holder.split(":")[1])


def result_files(stack: Stack, job_id: str) -> list[str]:
    folder = stack.root / "objects" / "results" / job_id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_sigkill_of_the_pool_process_mid_job_reruns_it_once(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    job = api.submit("slow:0.2", steps=15)
    api.until(job["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 2)
    os.kill(holder_pid(job, stack), signal.SIGKILL)
    done = api.finished(job["id"])
    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert len(done["result"]["files"]) == 1
    assert result_files(stack, job["id"]) == ["0.png"]


def test_a_job_that_kills_every_worker_fails_after_the_cap_and_others_go_on(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    poison = api.submit("kill")
    after = api.submit("ok")
    done = api.finished(poison["id"], timeout=120)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "worker_lost"
    assert done["attempts"] == 3
    assert api.finished(after["id"])["status"] == "succeeded"


def test_a_dead_worker_s_job_is_finished_by_another_worker(stack: Stack) -> None:
    fast_leases = {**SCRIPTED, "LLMB_LEASE_TTL_S": "3"}
    api = Api(stack.start_api().port)
    doomed = stack.start_worker(env=fast_leases, name="doomed")
    job = api.submit("slow:0.3", steps=10)
    api.until(job["id"], lambda j: j["status"] == "running")
    stack.start_worker(env=fast_leases, name="survivor")
    died_at = time.monotonic()
    doomed.stop(sig=signal.SIGKILL, group=True)
    done = api.finished(job["id"], timeout=90)
    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert time.monotonic() - died_at < 60
    assert result_files(stack, job["id"]) == ["0.png"]


def test_sigterm_mid_job_lets_the_job_finish(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env=SCRIPTED)
    job = api.submit("slow:0.2", steps=10)
    api.until(job["id"], lambda j: j["status"] == "running")
    worker.stop(sig=signal.SIGTERM, timeout=30)  # to the main process, as Kubernetes sends it
    assert worker.proc.returncode == 0
    done = api.job(job["id"])
    assert (done["status"], done["attempts"]) == ("succeeded", 1)


def test_a_job_past_its_time_limit_fails_and_the_worker_takes_the_next(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env={**SCRIPTED, "LLMB_JOB_TIME_LIMIT_S": "2"})
    slow = api.submit("slow:0.3", steps=30)
    after = api.submit("ok")
    done = api.finished(slow["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "timeout"
    assert api.finished(after["id"])["status"] == "succeeded"


def test_cancel_running_job_stops_it_and_frees_the_worker(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env=SCRIPTED)
    slow = api.submit("slow:0.2", steps=50)
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
    worker = stack.start_worker(env=SCRIPTED)
    client = connect(stack.env["LLMB_REDIS_URL"])
    pickler = make_celery(load_settings(redis_url=stack.env["LLMB_REDIS_URL"]))
    job_id = str(uuid.uuid4())
    # What an attacker with access to Redis could push: a pickle-serialized task for the queue.
    pickler.send_task(TASK_NAME, args=[job_id], task_id=job_id, queue="image", serializer="pickle")
    after = api.submit("ok")
    assert api.finished(after["id"])["status"] == "succeeded"
    assert client.llen("image") == 0
    assert not client.exists(keys.job(job_id))
    assert "Refusing to deserialize untrusted content of type pickle" in worker.log()
    assert api.http.get(f"/v1/jobs/{job_id}").status_code == 404


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
