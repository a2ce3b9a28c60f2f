from __future__ import annotations

import json
import time

import pytest
from redis import Redis

from shared import redis_keys
from shared.job_record import JobType
from shared.store import JobStore, Leases, Report
from shared.vocabulary import EventType
from tests.fixtures.jobs import submit

IMAGE = JobType.IMAGE


@pytest.fixture
def parts(redis_client: Redis):  # type: ignore[no-untyped-def]
    return JobStore(redis_client, job_ttl_s=3600), Leases(redis_client, lease_ttl_s=30)


def start(store: JobStore, job_id: str, holder: str, lease_until: float) -> None:
    assert store.start(job_id, IMAGE, holder=holder, lease_until=lease_until) is not None


def progress(job_id: str, holder: str, step: int) -> Report:
    data = {"step": step, "total": 3}
    return Report(job_id, holder, EventType.PROGRESS, data, data)


def test_only_the_holder_renews(parts) -> None:
    store, leases = parts
    job = submit(store)
    start(store, job.id, "w1", time.time() + 1)
    assert leases.renew(job.id, IMAGE, "w1")
    assert store.get(job.id).lease_until > time.time() + 20
    assert not leases.renew(job.id, IMAGE, "w2")
    store.cancel(job.id)
    assert not leases.renew(job.id, IMAGE, "w1")


def test_report_appends_for_the_holder_and_tells_others_to_stop(parts, redis_client) -> None:
    store, leases = parts
    job = submit(store)
    start(store, job.id, "w1", time.time() + 30)
    assert leases.report_many([progress(job.id, "w1", 1), progress(job.id, "w2", 2)]) == ["running", "lost"]
    assert store.get(job.id).progress is not None
    store.cancel(job.id)
    assert leases.report_many([progress(job.id, "w1", 2)]) == ["canceled"]
    steps = [json.loads(f[b"data"]).get("step") for _, f in redis_client.xrange(redis_keys.events(job.id))]
    assert steps.count(1) == 1
    assert 2 not in steps
    assert leases.report_many([Report("missing", "w1", EventType.TOKEN, {"text": "x"})]) == ["missing"]


def test_heartbeats_count_live_workers(parts) -> None:
    store, leases = parts
    leases.heartbeat("w1", [IMAGE, JobType.CHAT])
    loads = store.queue_loads(worker_ttl_s=30)
    assert [loads[q].workers for q in JobType] == [1, 1, 0]
    leases.leave("w1", [IMAGE, JobType.CHAT])
    assert store.queue_loads(worker_ttl_s=30)[IMAGE].workers == 0


def test_a_check_only_report_answers_the_status_and_adds_no_event(parts, redis_client) -> None:
    store, leases = parts
    job = submit(store)
    start(store, job.id, "w1", time.time() + 30)
    before = redis_client.xlen(redis_keys.events(job.id))
    assert leases.report_many([Report(job.id, "w1", None, {})]) == ["running"]
    store.cancel(job.id)
    assert leases.report_many([Report(job.id, "w1", None, {})]) == ["canceled"]
    assert redis_client.xlen(redis_keys.events(job.id)) == before + 1  # only the cancel's own event
