from __future__ import annotations

import json
import time

import pytest
from redis import Redis

from shared import keys
from shared.jobs import JobStatus
from shared.leases import Leases
from shared.queues import task_message
from shared.store import JobStore
from tests.fixtures.jobs import submit


@pytest.fixture
def parts(redis_client: Redis):  # type: ignore[no-untyped-def]
    store = JobStore(redis_client, job_ttl_s=3600)
    return store, Leases(redis_client, lease_ttl_s=30)


def start(store: JobStore, job_id: str, holder: str, lease_until: float) -> None:
    assert store.transition(
        job_id, JobStatus.RUNNING, fields={"holder": holder}, incr_attempts=True, lease_until=lease_until
    ).ok


def test_only_the_holder_renews(parts, redis_client) -> None:
    store, leases = parts
    job = submit(store)
    start(store, job.id, "w1", time.time() + 1)
    assert leases.renew(job.id, "image", "w1")
    assert store.get(job.id).lease_until > time.time() + 20
    assert not leases.renew(job.id, "image", "w2")
    store.cancel(job.id)
    assert not leases.renew(job.id, "image", "w1")


def test_report_appends_for_the_holder_and_tells_others_to_stop(parts, redis_client) -> None:
    store, leases = parts
    job = submit(store)
    start(store, job.id, "w1", time.time() + 30)
    assert (
        leases.report(job.id, "w1", "progress", {"step": 1, "total": 3}, progress={"step": 1, "total": 3})
        == "running"
    )
    assert store.get(job.id).progress is not None
    assert (
        leases.report(job.id, "w2", "progress", {"step": 2, "total": 3}, progress={"step": 2, "total": 3})
        == "lost"
    )
    store.cancel(job.id)
    assert (
        leases.report(job.id, "w1", "progress", {"step": 2, "total": 3}, progress={"step": 2, "total": 3})
        == "canceled"
    )
    steps = [json.loads(f[b"data"]).get("step") for _, f in redis_client.xrange(keys.events(job.id))]
    assert steps.count(1) == 1
    assert 2 not in steps
    assert leases.report("missing", "w1", "token", {"text": "x"}) == "missing"


def test_reaper_frees_lapsed_jobs_once_and_sends_them_again(parts, redis_client) -> None:
    store, leases = parts
    lapsed, alive = submit(store), submit(store)
    start(store, lapsed.id, "gone", time.time() - 1)
    start(store, alive.id, "w1", time.time() + 30)
    redis_client.delete("image")
    freed = leases.reap("image", lambda job_id: task_message(job_id, "image"))
    assert freed == [lapsed.id]
    record = store.get(lapsed.id)
    assert (record.status, record.holder) == (JobStatus.RUNNING, "")
    assert [json.loads(m)["headers"]["id"] for m in redis_client.lrange("image", 0, -1)] == [lapsed.id]
    assert leases.reap("image", lambda job_id: task_message(job_id, "image")) == []


def test_heartbeats_count_live_workers(parts, redis_client) -> None:
    store, leases = parts
    leases.heartbeat("w1", ["image", "chat"])
    stats = store.queue_stats(("image", "chat", "embed"), worker_ttl_s=30)
    assert [stats[q]["workers"] for q in ("image", "chat", "embed")] == [1, 1, 0]
    leases.leave("w1", ["image", "chat"])
    assert store.queue_stats(("image",), worker_ttl_s=30)["image"]["workers"] == 0
