"""claim_next: the store's waiting index is the queue; a worker claims whichever job it puts first."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from shared import redis_keys
from shared.job_record import JobStatus, JobType
from shared.store import JobStore
from shared.vocabulary import ErrorCode
from tests.fixtures.jobs import new_record, submit

IMAGE = JobType.IMAGE


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def claim(store: JobStore, holder: str = "w1", job_type: JobType = IMAGE):  # type: ignore[no-untyped-def]
    return store.claim_next(job_type, holder=holder, lease_until=time.time() + 30)


def test_jobs_are_claimed_in_arrival_order_once_each_then_none(store) -> None:
    jobs = [submit(store) for _ in range(3)]
    claimed = [claim(store, holder=f"w{i}") for i in range(3)]
    assert [c.id for c in claimed] == [j.id for j in jobs]
    assert [(c.status, c.holder, c.attempts) for c in claimed] == [
        (JobStatus.RUNNING, f"w{i}", 1) for i in range(3)
    ]
    assert claim(store) is None
    assert claim(store, job_type=JobType.CHAT) is None  # another queue's index


def test_a_handed_back_job_is_claimed_first(store) -> None:
    first, second = submit(store), submit(store)
    assert claim(store).id == first.id
    assert store.hand_back(first.id, IMAGE, holder="w1")
    assert claim(store, holder="w2").id == first.id
    assert claim(store, holder="w3").id == second.id


def test_a_job_past_its_deadline_is_canceled_and_the_next_one_claimed(store, redis_client) -> None:
    late = store.create(new_record(IMAGE).model_copy(update={"deadline_at": time.time() - 1})).record
    fresh = submit(store)
    assert claim(store).id == fresh.id
    gone = store.get(late.id)
    assert gone.status == JobStatus.CANCELED
    assert gone.error.code == ErrorCode.DEADLINE


def test_ids_whose_records_are_gone_are_dropped_from_the_index(store, redis_client) -> None:
    stale, live = submit(store), submit(store)
    redis_client.delete(redis_keys.job(stale.id))
    assert claim(store).id == live.id
    assert redis_client.zcard(redis_keys.waiting(IMAGE)) == 0


def test_a_batch_mate_starts_only_with_a_permit_it_takes_from_the_list(store, redis_client) -> None:
    first, mate, other = submit(store), submit(store), submit(store)
    assert redis_client.llen(redis_keys.celery_queue(IMAGE)) == 3  # one permit per waiting job
    started = store.start_mate(mate.id, IMAGE, holder="w1", lease_until=time.time() + 30)
    assert started.ok
    assert started.record.status == JobStatus.RUNNING
    assert redis_client.llen(redis_keys.celery_queue(IMAGE)) == 2  # its permit went with it
    redis_client.delete(redis_keys.celery_queue(IMAGE))  # the others are being delivered
    refused = store.start_mate(other.id, IMAGE, holder="w1", lease_until=time.time() + 30)
    assert refused.no_permit
    assert store.get(other.id).status == JobStatus.QUEUED  # left for a delivery to claim
    assert not store.start_mate(mate.id, IMAGE, holder="w1", lease_until=time.time() + 30).ok
    assert store.get(first.id).status == JobStatus.QUEUED


def test_a_queued_job_that_ends_without_running_spends_a_permit(store, redis_client) -> None:
    queue = redis_keys.celery_queue(IMAGE)
    canceled, late, stale, running = submit(store), submit(store), submit(store), submit(store)
    assert redis_client.rpop(queue)  # Celery delivers one message (a permit) ...
    assert claim(store).id == canceled.id  # ... which claims the first job
    store.hand_back(canceled.id, IMAGE, holder="w1")  # back in line with a permit of its own
    assert redis_client.llen(queue) == 4
    store.cancel(canceled.id)
    assert redis_client.llen(queue) == 3  # the list stays as long as the waiting jobs
    assert store.expire(late.id, IMAGE)
    assert redis_client.llen(queue) == 2
    redis_client.delete(redis_keys.job(stale.id))  # its record expired unclaimed
    assert redis_client.rpop(queue)
    assert claim(store).id == running.id  # the delivery drops the stale id and its permit on the way
    assert redis_client.llen(queue) == 0
    store.cancel(running.id)  # a running job had spent its permit when it started
    assert redis_client.llen(queue) == 0
