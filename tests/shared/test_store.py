from __future__ import annotations

import json
import time

import pytest
from redis import Redis

from shared import keys
from shared.errors import InvalidTransitionError, NotFoundError
from shared.jobs import ErrorInfo, JobStatus, JobType
from shared.store import JobStore
from tests.fixtures.jobs import new_record, submit


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def events_of(client: Redis, job_id: str) -> list[dict[str, object]]:
    return [
        json.loads(f[b"data"]) | {"type": f[b"type"].decode()} for _, f in client.xrange(keys.events(job_id))
    ]


def test_create_writes_record_index_event_and_message_together(store, redis_client) -> None:
    record = submit(store)
    assert store.get(record.id) == record
    assert record.seq >= 1
    assert redis_client.zrank(keys.waiting("image"), record.id) == 0
    message = json.loads(redis_client.lindex("image", 0))
    assert message["headers"]["id"] == record.id
    assert events_of(redis_client, record.id) == [{"status": "queued", "attempts": 0, "type": "status"}]
    assert 0 < redis_client.ttl(keys.job(record.id)) <= 3600


def test_positions_follow_arrival_order(store) -> None:
    jobs = [submit(store) for _ in range(3)]
    assert [store.position(store.get(j.id)) for j in jobs] == [1, 2, 3]
    store.cancel(jobs[0].id)
    assert store.position(store.get(jobs[2].id)) == 2
    assert store.position(store.get(jobs[0].id)) is None


def test_unknown_job_is_not_found(store) -> None:
    with pytest.raises(NotFoundError):
        store.get("no-such-job")
    assert store.transition("no-such-job", JobStatus.RUNNING).previous is None


def test_transition_stamps_time_and_moves_between_queue_indexes(store, redis_client) -> None:
    job = submit(store)
    started = store.transition(
        job.id, JobStatus.RUNNING, fields={"holder": "w1"}, incr_attempts=True, lease_until=time.time() + 30
    )
    assert started.ok
    assert started.previous == JobStatus.QUEUED
    record = store.get(job.id)
    assert (record.status, record.attempts, record.holder) == (JobStatus.RUNNING, 1, "w1")
    assert record.started_at is not None
    assert redis_client.zscore(keys.running("image"), job.id) == pytest.approx(record.lease_until)
    assert redis_client.zrank(keys.waiting("image"), job.id) is None
    done = store.transition(job.id, JobStatus.SUCCEEDED, expect_holder="w1", fields={"result": {"files": []}})
    assert done.ok
    record = store.get(job.id)
    assert record.finished_at is not None
    assert record.result == {"files": []}
    assert redis_client.zscore(keys.running("image"), job.id) is None
    assert [e["status"] for e in events_of(redis_client, job.id)] == ["queued", "running", "succeeded"]


def test_terminal_jobs_never_change(store) -> None:
    job = submit(store)
    store.transition(job.id, JobStatus.RUNNING, fields={"holder": "w1"}, incr_attempts=True)
    assert store.transition(job.id, JobStatus.FAILED, error=ErrorInfo(code="x", message="y")).ok
    for new in JobStatus:
        outcome = store.transition(job.id, new, incr_attempts=True)
        assert not outcome.ok
        assert outcome.previous == JobStatus.FAILED
    assert store.get(job.id).error == ErrorInfo(code="x", message="y")


def test_compare_and_set_rejects_a_stale_holder(store) -> None:
    job = submit(store)
    store.transition(job.id, JobStatus.RUNNING, fields={"holder": "w1"}, incr_attempts=True)
    store.transition(
        job.id, JobStatus.RUNNING, expect_holder="w1", fields={"holder": "w2"}, incr_attempts=True
    )
    late = store.transition(
        job.id, JobStatus.SUCCEEDED, expect_holder="w1", fields={"result": {"from": "w1"}}
    )
    assert not late.ok
    assert store.transition(
        job.id, JobStatus.SUCCEEDED, expect_holder="w2", fields={"result": {"from": "w2"}}
    ).ok
    assert store.get(job.id).result == {"from": "w2"}
    assert store.get(job.id).attempts == 2


def test_redelivery_must_count_an_attempt(store) -> None:
    job = submit(store)
    store.transition(job.id, JobStatus.RUNNING, fields={"holder": "w1"}, incr_attempts=True)
    assert not store.transition(job.id, JobStatus.RUNNING, fields={"holder": "w2"}).ok


def test_terminal_record_and_events_keep_the_ttl(redis_client) -> None:
    store = JobStore(redis_client, job_ttl_s=100)
    job = submit(store)
    store.cancel(job.id)
    assert 0 < redis_client.ttl(keys.job(job.id)) <= 100
    assert 0 < redis_client.ttl(keys.events(job.id)) <= 100


def test_cancel_of_a_finished_job_conflicts(store) -> None:
    job = submit(store)
    assert store.cancel(job.id).status == JobStatus.CANCELED
    with pytest.raises(InvalidTransitionError):
        store.cancel(job.id)
    with pytest.raises(NotFoundError):
        store.cancel("missing")


def test_list_pages_newest_first_and_drops_expired(store, redis_client) -> None:
    records = []
    for _ in range(5):
        record = new_record()
        store.create(record, b"{}")
        records.append(record)
    mine = [r.id for r in reversed(records)]
    first = store.list_for_owner("anonymous", limit=3)
    assert [r.id for r in first] == mine[:3]
    rest = store.list_for_owner("anonymous", limit=3, before=first[-1].created_at)
    assert [r.id for r in rest] == mine[3:]
    redis_client.delete(keys.job(mine[0]))
    assert [r.id for r in store.list_for_owner("anonymous", limit=10)] == mine[1:]
    assert redis_client.zscore(keys.owner_jobs("anonymous"), mine[0]) is None
    assert store.list_for_owner("someone-else", limit=10) == []


def test_queue_stats_count_waiting_running_and_workers(store, redis_client) -> None:
    a, _b = submit(store), submit(store)
    submit(store, JobType.CHAT, messages=[{"role": "user", "content": "hi"}])
    store.transition(a.id, JobStatus.RUNNING, fields={"holder": "w"}, incr_attempts=True)
    redis_client.zadd(keys.workers("image"), {"w-live": time.time(), "w-dead": time.time() - 600})
    stats = store.queue_stats(("image", "chat", "embed"), worker_ttl_s=30)
    assert stats["image"] == {"waiting": 1, "running": 1, "workers": 1, "load": 2}
    assert stats["chat"] == {"waiting": 1, "running": 0, "workers": 0, "load": 1}
    assert stats["embed"]["load"] == 0


def test_create_answers_the_first_event_id_so_a_waiter_needs_no_snapshot(store, redis_client) -> None:
    record = new_record()
    created = store.create(record, b"{}")
    ((first_id, _fields),) = redis_client.xrange(keys.events(record.id))
    assert created.event_id == first_id.decode()
    assert created.position == 1
