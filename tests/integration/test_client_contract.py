"""Idempotency keys, deadlines and the wait estimate with real processes (issue 10)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from devtools.stack.deployment import Stack
from shared.redis_conn import connect
from tests.integration.conftest import SCRIPTED, Api

IMAGE = {"type": "image", "input": {"prompt": "ok", "width": 64, "height": 64, "steps": 1}}


def test_fifty_concurrent_posts_with_one_key_make_one_job(stack: Stack) -> None:
    api = Api(stack.start_api(workers=2).port)
    headers = {"Idempotency-Key": "order-42"}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=api.base, timeout=30) as client:
            return client.post("/v1/jobs", json=IMAGE, headers=headers)

    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(post, range(50)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 202, 409}
    assert statuses.count(202) == 1  # one request made the job
    made = {a.json()["id"] for a in answers if a.status_code in (200, 202)}
    assert len(made) == 1
    assert all(a.headers.get("Idempotent-Replayed") == "true" for a in answers if a.status_code == 200)
    assert connect(stack.env["LLMB_REDIS_URL"]).llen("image") == 1  # one task message, no worker here
    assert [j["id"] for j in api.http.get("/v1/jobs").json()["jobs"]] == list(made)
    again = api.http.post("/v1/jobs", json=IMAGE, headers=headers)
    assert (again.status_code, again.json()["id"], again.headers["Idempotent-Replayed"]) == (
        200,
        *made,
        "true",
    )
    other = api.http.post("/v1/jobs", json={**IMAGE, "input": {"prompt": "other"}}, headers=headers)
    assert (other.status_code, other.json()["errors"][0]["field"]) == (422, "Idempotency-Key")


def test_a_queued_job_past_its_deadline_is_canceled_and_never_runs(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    # HousekeeperConfig sweeps every second; one delivery at a time, so the job behind the held one waits.
    stack.start_worker(env={**SCRIPTED, "LLMB_LEASE_TTL_S": "3", "LLMB_CONCURRENCY": "1"})
    busy = api.submit(f"hold:{tmp_path / 'go'}")
    # Held at step 1: its batch has stopped gathering, so the next job waits (not taken as a mate).
    api.until(busy["id"], lambda j: (j["progress"] or {}).get("step", 0) >= 1)
    late = api.http.post("/v1/jobs", json={**IMAGE, "deadline_s": 1}).json()
    done = api.finished(late["id"], timeout=30)
    assert (done["status"], done["error"]["code"], done["attempts"], done["started_at"]) == (
        "canceled",
        "deadline",
        0,
        None,
    )
    (tmp_path / "go").touch()
    assert api.finished(busy["id"])["status"] == "succeeded"


def test_a_running_job_past_its_deadline_stops_at_its_next_step(stack: Stack, tmp_path: Path) -> None:
    api = Api(stack.start_api().port)
    worker = stack.start_worker(env=SCRIPTED)
    body = {"type": "image", "input": {"prompt": f"hold:{tmp_path / 'never'}", "steps": 3}}
    job = api.http.post("/v1/jobs", json=body, headers={"Cancel-After": "2s"}).json()
    assert job["deadline_at"] is not None
    running = api.until(job["id"], lambda j: j["status"] == "running")
    done = api.finished(job["id"], timeout=30)
    assert (done["status"], done["error"]["code"], done["attempts"]) == ("canceled", "deadline", 1)
    assert done["progress"]["step"] == 1  # it held at step 1 and went no further
    assert running["finished_at"] is None
    assert done["result"] is None
    assert f"job {job['id']}: canceled, past its deadline" in worker.log()


def submitted(api: Api, prompt: str) -> dict[str, Any]:
    response = api.http.post("/v1/jobs", json={"type": "image", "input": {"prompt": prompt, "steps": 2}})
    assert response.status_code == 202
    job: dict[str, Any] = response.json()
    return job


def test_the_wait_estimate_is_null_cold_and_within_twice_the_real_wait_warm(stack: Stack) -> None:
    api = Api(stack.start_api().port)
    stack.start_worker(env={**SCRIPTED, "LLMB_BATCH_MAX": "1"})
    cold = submitted(api, "work:0.3")
    assert cold["estimated_start_s"] is None  # no history yet
    warm_up = [submitted(api, "work:0.3") for _ in range(6)]
    for job in (cold, *warm_up):
        api.finished(job["id"])
    line = [submitted(api, "work:0.3") for _ in range(20)]
    finished = [api.finished(j["id"], timeout=120) for j in line]
    for asked, done in list(zip(line, finished, strict=True))[4:]:  # jobs 5 to 20
        waited = _seconds(done["started_at"]) - _seconds(done["created_at"])
        assert asked["estimated_start_s"] is not None
        assert 0.5 <= asked["estimated_start_s"] / waited <= 2, (
            asked["queue_position"],
            asked["estimated_start_s"],
            waited,
        )


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
