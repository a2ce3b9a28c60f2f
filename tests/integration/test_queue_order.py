"""The queue's order through real processes: the API writes each job's place, a Celery worker claims by it.

A message is a permit: whichever job the store puts first runs (claim_next), so the order here is the
store's, not Celery's list's. Jobs wait while no worker runs; one worker then claims them one at a time.
"""

from __future__ import annotations

from typing import Any

import httpx

from devtools.stack.deployment import Stack
from devtools.stack.process import wait_until
from tests.integration.conftest import SCRIPTED, bearer, finished_with

ADMIN = "order-admin-key"
ONE_AT_A_TIME = SCRIPTED | {"LLMB_BATCH_MAX": "1", "LLMB_CONCURRENCY": "1"}


def post(api: httpx.Client, key: str, **extra: Any) -> str:
    body = {"type": "image", "input": {"prompt": "ok", "steps": 1, "width": 64, "height": 64}, **extra}
    answer = api.post("/v1/jobs", json=body, headers=bearer(key))
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["id"]
    return job_id


def start_order(api: httpx.Client, posted: list[tuple[str, str]]) -> list[str]:
    """The jobs' ids (each posted as (key, id)) in the order they started; each ran once and succeeded."""
    jobs = [finished_with(api, key, i) for key, i in posted]
    assert all(j["status"] == "succeeded" and j["attempts"] == 1 for j in jobs)
    return [j["id"] for j in sorted(jobs, key=lambda j: j["started_at"])]


def test_a_tenant_s_few_jobs_start_among_a_flooding_tenant_s_not_after_them(stack: Stack) -> None:
    port = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}).port
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as api:
        keys = {t: api.post("/v1/keys", json={"name": t}, headers=bearer(ADMIN)).json()["key"] for t in "ab"}
        flood = [post(api, keys["a"]) for _ in range(60)]
        few = [post(api, keys["b"]) for _ in range(5)]
        place = api.get(f"/v1/jobs/{few[0]}", headers=bearer(keys["b"])).json()["queue_position"]
        assert place == 2  # behind A's first job only: the position is the fair order's
        stack.start_worker(env=ONE_AT_A_TIME)
        order = start_order(api, [(keys["a"], i) for i in flood] + [(keys["b"], i) for i in few])
    # The README's rule: B's jobs take turns with A's from the moment B posts, so all five start
    # before the 6th of A's jobs that were waiting then (the issue asked: before A's 50th).
    assert [order.index(j) for j in few] == [1, 3, 5, 7, 9]
    assert [j for j in order if j in flood] == flood


def test_interactive_jobs_start_before_a_waiting_batch_of_the_same_queue(stack: Stack) -> None:
    port = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}).port
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as api:
        key = api.post("/v1/keys", json={"name": "a"}, headers=bearer(ADMIN)).json()["key"]
        batch = [post(api, key, priority="batch") for _ in range(10)]
        interactive = [post(api, key) for _ in range(3)]
        refused = api.post(
            "/v1/jobs",
            json={"type": "image", "input": {"prompt": "ok"}, "priority": "urgent"},
            headers=bearer(key),
        )
        assert refused.status_code == 422
        assert "priority" in refused.text
        stack.start_worker(env=ONE_AT_A_TIME)
        order = start_order(api, [(key, i) for i in batch + interactive])
        assert api.get(f"/v1/jobs/{batch[0]}", headers=bearer(key)).json()["priority"] == "batch"
    assert order == interactive + batch


def test_under_a_burst_every_delivery_runs_a_job_and_every_job_is_claimed_once(stack: Stack) -> None:
    port = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}).port
    worker = stack.start_worker(env=SCRIPTED | {"LLMB_BATCH_MAX": "4", "LLMB_CONCURRENCY": "2"})
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as api:
        key = api.post("/v1/keys", json={"name": "a"}, headers=bearer(ADMIN)).json()["key"]
        ids = [post(api, key) for _ in range(40)]
        jobs = [finished_with(api, key, i) for i in ids]
    assert all(j["status"] == "succeeded" and j["attempts"] == 1 for j in jobs)  # each claimed once
    log = worker.log()
    deliveries = log.count(": running (attempt ")  # a delivery's claim; batch mates are claimed silently
    assert "nothing to do" not in log  # no delivery found its job gone: the mates' permits were spent
    batched = sum(
        int(line.split("batched with ")[1].split()[0]) for line in log.splitlines() if "batched with" in line
    )
    assert deliveries + batched == len(ids)


def test_an_interactive_job_starts_while_every_thread_of_the_worker_holds_a_batch_job(
    stack: Stack, tmp_path
) -> None:
    release = tmp_path / "release"
    port = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN}).port
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as api:
        key = api.post("/v1/keys", json={"name": "a"}, headers=bearer(ADMIN)).json()["key"]
        held = {"input": {"prompt": f"hold:{release}", "steps": 1, "width": 64, "height": 64}}
        batch = [post(api, key, priority="batch", **held) for _ in range(8)]
        # Threads: (LLMB_DEVICE_BATCHES 1 + 1) x LLMB_BATCH_MAX 2 = 4, each holding a batch job: a batch
        # of two on the device (held), the next two waiting for it; four more wait in the store.
        worker = stack.start_worker(env=SCRIPTED | {"LLMB_BATCH_MAX": "2"})

        def statuses() -> list[str]:
            return [api.get(f"/v1/jobs/{i}", headers=bearer(key)).json()["status"] for i in batch]

        wait_until(lambda: statuses().count("running") == 4, timeout=60, what="four batch jobs claimed")
        interactive = post(api, key)
        wait_until(
            lambda: api.get(f"/v1/jobs/{interactive}", headers=bearer(key)).json()["status"] == "running",
            timeout=60,
            what="the interactive job claimed",
        )
        assert statuses().count("queued") == 4  # no thread freed: it came in at the interactive door
        assert f"job {interactive}: running (attempt 1), claimed at the interactive door" in worker.log()
        release.touch()
        jobs = [finished_with(api, key, i) for i in [*batch, interactive]]
    assert all(j["status"] == "succeeded" and j["attempts"] == 1 for j in jobs)
    # Its batch then takes the device before the full one of batch jobs waiting for it: the order the
    # micro-batcher gives (tests/worker/test_micro_batcher.py), not asserted here, where the release
    # may come before its batch has asked for the device.
