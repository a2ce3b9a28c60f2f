from __future__ import annotations

import json
import time

import pytest
from redis import Redis

from shared import redis_keys
from shared.errors import InvalidTransitionError, NotFoundError, TenantQueueFullError
from shared.job_record import ErrorInfo, JobStatus, JobType
from shared.store import Created, Existing, Idempotency, JobStore, Leases, Place
from shared.store.answers import History
from shared.vocabulary import ErrorCode
from tests.fixtures.jobs import new_record, submit

IMAGE = JobType.IMAGE


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def events_of(client: Redis, job_id: str) -> list[dict[str, object]]:
    return [
        json.loads(f[b"data"]) | {"type": f[b"type"].decode()}
        for _, f in client.xrange(redis_keys.events(job_id))
    ]


def start(store: JobStore, job_id: str, holder: str = "w1", lease_s: float = 30) -> None:
    assert store.start(job_id, IMAGE, holder=holder, lease_until=time.time() + lease_s) is not None


def test_create_writes_record_index_event_and_message_together(store, redis_client) -> None:
    record = submit(store)
    assert store.get(record.id) == record
    assert record.seq >= 1
    assert record.batch_key == "64x64:1:7.5"
    assert redis_client.zrank(redis_keys.waiting(IMAGE), record.id) == 0
    message = json.loads(redis_client.lindex("image", 0))
    assert message["headers"]["id"] == record.id
    assert message["properties"]["delivery_info"]["routing_key"] == "image"
    assert events_of(redis_client, record.id) == [{"status": "queued", "attempts": 0, "type": "status"}]
    assert 0 < redis_client.ttl(redis_keys.job(record.id)) <= 3600


def test_positions_follow_arrival_order(store) -> None:
    jobs = [submit(store) for _ in range(3)]
    assert [store.position(store.get(j.id)) for j in jobs] == [1, 2, 3]
    store.cancel(jobs[0].id)
    assert store.position(store.get(jobs[2].id)) == 2
    assert store.position(store.get(jobs[0].id)) is None


def test_unknown_job_is_not_found(store) -> None:
    with pytest.raises(NotFoundError):
        store.get("no-such-job")
    with pytest.raises(NotFoundError):
        store.snapshot("no-such-job")
    assert store.start("no-such-job", IMAGE, holder="w1", lease_until=0) is None


def test_start_stamps_time_counts_the_attempt_and_moves_between_indexes(store, redis_client) -> None:
    job = submit(store)
    started = store.start(job.id, IMAGE, holder="w1", lease_until=time.time() + 30)
    assert started is not None
    assert (started.status, started.attempts, started.holder) == (JobStatus.RUNNING, 1, "w1")
    assert started.started_at is not None
    assert redis_client.zscore(redis_keys.running(IMAGE), job.id) == pytest.approx(started.lease_until)
    assert redis_client.zrank(redis_keys.waiting(IMAGE), job.id) is None
    assert store.succeed(job.id, IMAGE, holder="w1", result={"files": []}).ok
    record = store.get(job.id)
    assert record.finished_at is not None
    assert record.result == {"files": []}
    assert (record.holder, record.lease_until) == ("", 0.0)
    assert redis_client.zscore(redis_keys.running(IMAGE), job.id) is None
    assert [e["status"] for e in events_of(redis_client, job.id)] == ["queued", "running", "succeeded"]


def test_a_started_job_cannot_start_again_until_its_lost_worker_is_released(store) -> None:
    job = submit(store)
    start(store, job.id, "w1")
    assert store.start(job.id, IMAGE, holder="w2", lease_until=time.time() + 30) is None
    lost = store.get(job.id)
    assert not store.release_lost(lost.model_copy(update={"holder": "w3"}), max_attempts=3)  # not its holder
    assert store.release_lost(lost, max_attempts=3, permit=False)
    again = store.start(job.id, IMAGE, holder="w2", lease_until=time.time() + 30)
    assert again is not None
    assert (again.holder, again.attempts) == ("w2", 2)


def test_a_lost_job_past_its_attempts_fails_worker_lost_whoever_decides(store, redis_client) -> None:
    job = submit(store)
    start(store, job.id, "w1")
    assert store.release_lost(store.get(job.id), max_attempts=1)
    failed = store.get(job.id)
    assert (failed.status, failed.error.code) == (JobStatus.FAILED, ErrorCode.WORKER_LOST)


def test_terminal_jobs_never_change(store) -> None:
    job = submit(store)
    start(store, job.id)
    assert store.fail(job.id, IMAGE, ErrorInfo(code=ErrorCode.TIMEOUT, message="y")).ok
    assert not store.succeed(job.id, IMAGE, holder="*", result={}).ok
    assert not store.fail(job.id, IMAGE, ErrorInfo(code=ErrorCode.INTERNAL, message="z")).ok
    assert not store.hand_back(job.id, IMAGE, holder="*")
    assert store.start(job.id, IMAGE, holder="w2", lease_until=0) is None
    assert not store.release_lost(store.get(job.id), max_attempts=3)
    with pytest.raises(InvalidTransitionError):
        store.cancel(job.id)
    assert store.get(job.id).error == ErrorInfo(code=ErrorCode.TIMEOUT, message="y")


def test_compare_and_set_rejects_a_stale_holder(store) -> None:
    job = submit(store)
    start(store, job.id, "w1")
    assert store.release_lost(store.get(job.id), max_attempts=3, permit=False)
    store.start(job.id, IMAGE, holder="w2", lease_until=time.time() + 30)
    assert not store.succeed(job.id, IMAGE, holder="w1", result={"from": "w1"}).ok
    assert not store.fail(job.id, IMAGE, ErrorInfo(code=ErrorCode.INTERNAL, message="late"), holder="w1").ok
    assert store.succeed(job.id, IMAGE, holder="w2", result={"from": "w2"}).ok
    assert store.get(job.id).result == {"from": "w2"}
    assert store.get(job.id).attempts == 2


def test_hand_back_puts_the_job_first_in_line_with_its_attempts(store, redis_client) -> None:
    waiting = submit(store)
    job = submit(store)
    redis_client.delete("image")
    start(store, job.id, "w1")
    assert not store.hand_back(job.id, IMAGE, holder="w2")
    assert store.hand_back(job.id, IMAGE, holder="w1")
    record = store.get(job.id)
    assert (record.status, record.attempts, record.holder, record.progress) == (JobStatus.QUEUED, 1, "", None)
    assert store.position(record) == 2  # arrival order still counts: the older job is ahead
    assert [json.loads(m)["headers"]["id"] for m in redis_client.lrange("image", -1, -1)] == [job.id]
    assert store.position(store.get(waiting.id)) == 1
    assert events_of(redis_client, job.id)[-1] == {"status": "queued", "attempts": 1, "type": "status"}


def test_reap_requeues_a_lapsed_job_first_in_line_and_fails_it_past_the_cap(store, redis_client) -> None:
    lapsed, alive, spent = submit(store), submit(store), submit(store)
    start(store, lapsed.id, "gone", lease_s=-1)
    start(store, alive.id, "w1")
    for holder in ("gone-1", "gone-2"):  # two attempts already lost
        redis_client.hset(redis_keys.job(spent.id), mapping={"status": "queued"})
        start(store, spent.id, holder, lease_s=-1)
    redis_client.delete("image")
    assert sorted(store.reap(IMAGE, max_attempts=2)) == sorted([lapsed.id, spent.id])
    record = store.get(lapsed.id)
    assert (record.status, record.holder, record.attempts) == (JobStatus.QUEUED, "", 1)
    assert [json.loads(m)["headers"]["id"] for m in redis_client.lrange("image", 0, -1)] == [lapsed.id]
    failed = store.get(spent.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == ErrorCode.WORKER_LOST
    assert store.get(alive.id).status == JobStatus.RUNNING
    assert store.reap(IMAGE, max_attempts=2) == []


def test_terminal_record_and_events_keep_the_ttl(redis_client) -> None:
    store = JobStore(redis_client, job_ttl_s=100)
    job = submit(store)
    store.cancel(job.id)
    assert 0 < redis_client.ttl(redis_keys.job(job.id)) <= 100
    assert 0 < redis_client.ttl(redis_keys.events(job.id)) <= 100


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
        store.create(record)
        records.append(record)
    mine = [r.id for r in reversed(records)]
    first = store.list_for_owner("anonymous", limit=3)
    assert [r.id for r in first] == mine[:3]
    rest = store.list_for_owner("anonymous", limit=3, before=first[-1].created_at)
    assert [r.id for r in rest] == mine[3:]
    redis_client.delete(redis_keys.job(mine[0]))
    assert [r.id for r in store.list_for_owner("anonymous", limit=10)] == mine[1:]
    assert redis_client.zscore(redis_keys.owner_jobs("anonymous"), mine[0]) is None
    assert store.list_for_owner("someone-else", limit=10) == []


def test_queue_loads_count_waiting_running_and_workers(store, redis_client) -> None:
    a, _b = submit(store), submit(store)
    submit(store, JobType.CHAT, messages=[{"role": "user", "content": "hi"}])
    start(store, a.id, "w")
    redis_client.zadd(redis_keys.workers(IMAGE), {"w-live": time.time(), "w-dead": time.time() - 600})
    loads = store.queue_loads(worker_ttl_s=30)
    assert (loads[IMAGE].waiting, loads[IMAGE].running, loads[IMAGE].workers, loads[IMAGE].load) == (
        1,
        1,
        1,
        2,
    )
    assert (loads[JobType.CHAT].waiting, loads[JobType.CHAT].load) == (1, 1)
    assert loads[JobType.EMBED].load == 0


def test_create_answers_the_first_event_id_so_a_waiter_needs_no_snapshot(store, redis_client) -> None:
    record = new_record()
    created = store.create(record)
    ((first_id, _fields),) = redis_client.xrange(redis_keys.events(record.id))
    assert created.event_id == first_id.decode()
    assert created.place.position == 1
    assert store.snapshot(record.id)[1] == first_id.decode()


def test_batching_reads_waiting_jobs_and_their_keys(store) -> None:
    small = submit(store, prompt="a", width=64, height=64)
    big = submit(store, prompt="b", width=128, height=64)
    waiting = store.waiting_after(IMAGE, None, 10)
    assert [job_id for job_id, _ in waiting] == [small.id, big.id]
    assert store.waiting_after(IMAGE, waiting[0][1], 10) == waiting[1:]
    assert store.batch_keys([small.id, big.id, "gone"]) == ["64x64:20:7.5", "128x64:20:7.5", None]
    assert store.backlog([IMAGE, JobType.CHAT]) == 2


def test_an_idempotency_key_answers_what_it_made(store, redis_client) -> None:
    idem = Idempotency("t1", "k" * 64, "fp-1", inflight_until=0)
    first = store.create(new_record(), idempotency=idem)
    assert isinstance(first, Created)
    again = store.create(new_record(), idempotency=idem)
    assert again == Existing(first.record.id, "fp-1", 0.0)
    assert redis_client.llen("image") == 1  # the second request made nothing
    other_tenant = store.create(new_record(), idempotency=Idempotency("t2", "k" * 64, "fp-1", 0))
    assert isinstance(other_tenant, Created)  # keys are per tenant


def test_a_job_past_its_deadline_never_starts_and_the_sweep_cancels_overdue_ones(store) -> None:
    past = store.create(new_record().model_copy(update={"deadline_at": time.time() - 1})).record
    assert store.start(past.id, IMAGE, holder="w1", lease_until=time.time() + 30) is None
    record = store.get(past.id)
    assert (record.status, record.attempts, record.error.code) == (JobStatus.CANCELED, 0, ErrorCode.DEADLINE)
    soon = store.create(new_record().model_copy(update={"deadline_at": time.time() + 60})).record
    running = store.create(new_record().model_copy(update={"deadline_at": time.time() + 60})).record
    start(store, running.id)
    assert store.expire_overdue(time.time()) == []
    assert sorted(store.expire_overdue(time.time() + 61)) == sorted([soon.id, running.id])
    assert {store.get(j).status for j in (soon.id, running.id)} == {JobStatus.CANCELED}
    assert store.expire_overdue(time.time() + 61) == []  # ended jobs left the deadlines set


@pytest.mark.parametrize(
    ("finishes", "workers", "expected"),
    [
        ((0, 0.0, 0.0), 1, None),
        ((1, 5.0, 5.0), 1, None),
        ((11, 100.0, 105.0), 0, None),
        ((11, 100.0, 105.0), 2, 1.5),
    ],
)
def test_the_estimate_is_position_over_the_recent_service_rate(
    finishes: tuple[int, float, float], workers: int, expected: float | None
) -> None:
    assert History(*finishes, workers).estimate_start_s(3) == expected  # 10 finishes in 5 s: 2 a second


def test_place_reads_position_and_estimate_from_the_queue_s_history(store, redis_client) -> None:
    for _ in range(3):
        job = submit(store)
        start(store, job.id)
        store.succeed(job.id, IMAGE, holder="w1", result={})
    waiting = submit(store)
    assert store.place(store.get(waiting.id)) == Place(1, None)  # no live worker
    Leases(redis_client, lease_ttl_s=30).heartbeat("w", [IMAGE])
    place = store.place(store.get(waiting.id))
    assert place.position == 1
    assert place.estimated_start_s is not None


def test_the_tenant_waiting_cap_follows_jobs_out_of_and_back_into_the_queue(store, redis_client) -> None:
    job = store.create(new_record(owner="t1"), max_tenant_waiting=1).record
    with pytest.raises(TenantQueueFullError):
        store.create(new_record(owner="t1"), max_tenant_waiting=1)
    assert store.create(new_record(owner="t2"), max_tenant_waiting=1)  # another tenant's place
    start(store, job.id)  # a running job no longer waits
    assert redis_client.zcard(redis_keys.tenant_waiting("t1", IMAGE)) == 0
    later = store.create(new_record(owner="t1"), max_tenant_waiting=2).record
    assert store.hand_back(job.id, IMAGE, holder="w1")  # back in line: it waits again
    assert redis_client.zrange(redis_keys.tenant_waiting("t1", IMAGE), 0, -1) == [
        job.id.encode(),
        later.id.encode(),
    ]
    with pytest.raises(TenantQueueFullError):
        store.create(new_record(owner="t1"), max_tenant_waiting=2)
