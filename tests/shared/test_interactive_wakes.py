"""The interactive door's store side: the wake-ups create.lua pushes and the door's claim (claim_next.lua
with `door`), on a real Redis (worker/interactive.py runs them; tests/integration/test_interactive_door.py
runs the worker)."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from shared import redis_keys
from shared.job_record import JobRecord, JobStatus, JobType
from shared.redis_conn import connect_blocking
from shared.store import JobStore
from shared.store.order import MAX_WAKES
from shared.store.wakes import InteractiveWakes
from tests.fixtures.jobs import new_record

IMAGE, EMBED = JobType.IMAGE, JobType.EMBED


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def post(store: JobStore, *, priority: str = "interactive", job_type: JobType = IMAGE) -> JobRecord:
    record = new_record(job_type, **({"input": ["a text"]} if job_type == EMBED else {}))
    record = record.model_copy(update={"priority": priority})
    return store.create(record).record


def wakes(redis_client: Redis, job_type: JobType = IMAGE) -> list[str]:
    return [w.decode() for w in redis_client.lrange(redis_keys.interactive_wakes(job_type), 0, -1)]


def door_claim(store: JobStore, job_type: JobType = IMAGE) -> JobRecord | None:
    return store.claim_next(job_type, holder="w", lease_until=time.time() + 60, door=True)


def test_an_interactive_job_behind_batch_jobs_wakes_the_door_and_no_other_job_does(
    store, redis_client
) -> None:
    post(store)  # interactive, nothing waits behind which it could be stuck
    assert wakes(redis_client) == []
    post(store, priority="batch")
    assert wakes(redis_client) == []  # batch jobs never wake the door
    late = post(store)
    assert wakes(redis_client) == [late.id]
    post(store, job_type=EMBED)  # another queue's line has no batch job: no wake-up there
    assert wakes(redis_client, EMBED) == []


def test_the_wake_ups_nobody_pops_stay_at_most_max_wakes(store, redis_client) -> None:
    post(store, priority="batch")
    posted = [post(store).id for _ in range(MAX_WAKES + 5)]
    assert wakes(redis_client) == posted[::-1][:MAX_WAKES]  # the newest kept


def test_the_door_claims_the_first_interactive_job_and_spends_its_task_message(store, redis_client) -> None:
    batch = post(store, priority="batch")
    first, second = post(store), post(store)
    celery = redis_keys.celery_queue(IMAGE)
    assert redis_client.llen(celery) == 3
    claimed = door_claim(store)
    assert claimed is not None
    assert claimed.id == first.id
    assert claimed.status == JobStatus.RUNNING
    assert redis_client.llen(celery) == 2  # one permit a waiting job, as before
    assert door_claim(store).id == second.id  # type: ignore[union-attr]
    assert door_claim(store) is None  # only a batch job waits: the door takes none
    assert store.get(batch.id).status == JobStatus.QUEUED
    assert redis_client.llen(celery) == 1


def test_the_door_takes_nothing_when_every_waiting_job_s_message_is_being_delivered(
    store, redis_client
) -> None:
    post(store, priority="batch")
    job = post(store)
    redis_client.delete(redis_keys.celery_queue(IMAGE))  # both messages in deliveries' hands
    assert door_claim(store) is None
    assert store.get(job.id).status == JobStatus.QUEUED  # its delivery claims it


def test_wait_answers_the_queue_of_a_wake_up_and_none_when_none_comes(store, redis_url) -> None:
    blocking = connect_blocking(redis_url)
    try:
        waiter = InteractiveWakes(blocking)
        assert waiter.wait([IMAGE, EMBED], 0.05) is None
        post(store, priority="batch", job_type=EMBED)
        post(store, job_type=EMBED)
        assert waiter.wait([IMAGE, EMBED], 1.0) == EMBED
        assert waiter.wait([IMAGE, EMBED], 0.05) is None  # popped: each wake-up wakes one door
    finally:
        blocking.close()
