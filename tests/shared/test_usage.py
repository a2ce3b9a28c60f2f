"""Usage written with a job's end (finish.lua) and read back per hour and all time, with a real Redis."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from shared import redis_keys
from shared.job_record import ErrorInfo, JobType
from shared.store import JobStore
from shared.store.usage import UsageRow
from shared.vocabulary import ErrorCode
from tests.fixtures.jobs import new_record

CHAT = JobType.CHAT


@pytest.fixture
def store(redis_client: Redis) -> JobStore:
    return JobStore(redis_client, job_ttl_s=3600)


def running_chat(store: JobStore, owner: str, key_id: str) -> str:
    record = new_record(CHAT, owner=owner, messages=[{"role": "user", "content": "hi"}])
    job = store.create(record.model_copy(update={"key_id": key_id})).record
    assert store.start(job.id, CHAT, holder="w1", lease_until=time.time() + 30) is not None
    return job.id


def test_an_end_writes_its_usage_on_the_record_and_in_the_totals_once(store, redis_client) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "device_s": 0.25}
    first, second = running_chat(store, "t1", "k1"), running_chat(store, "t1", "k2")
    assert store.succeed(first, CHAT, holder="w1", result={"text": "x"}, usage=usage).ok
    # A write tried again (its answer lost in an outage) finds the job ended: nothing counted twice.
    assert not store.succeed(first, CHAT, holder="w1", result={"text": "x"}, usage=usage).ok
    error = ErrorInfo(code=ErrorCode.INTERNAL, message="boom")
    assert store.fail(second, CHAT, error, holder="w1", usage={"device_s": 0.5}).ok
    assert store.get(first).usage == usage
    hour = int(time.time() // 3600)  # the totals' hour, or the one after it
    rows: dict[tuple[str, str], float] = {}
    for row in store.usage_rows(hour - 1, hour, tenant="t1"):
        rows[row.key_id, row.measure] = rows.get((row.key_id, row.measure), 0) + row.amount
    assert rows == {
        ("k1", "jobs"): 1,
        ("k1", "prompt_tokens"): 7,
        ("k1", "completion_tokens"): 3,
        ("k1", "device_s"): 0.25,
        ("k2", "jobs"): 1,
        ("k2", "device_s"): 0.5,
    }
    assert store.usage_rows(hour, hour, tenant="t2") == []
    totals = store.stats(worker_ttl_s=30).usage
    assert (totals["chat", "t1", "device_s"], totals["chat", "t1", "jobs"]) == (pytest.approx(0.75), 2)
    ttls = [redis_client.ttl(redis_keys.usage_hour(h)) for h in (hour - 1, hour)]
    assert 0 < max(ttls) <= 400 * 24 * 3600


def test_a_change_that_is_not_an_end_counts_no_usage(store) -> None:
    job = running_chat(store, "t1", "k1")
    assert store.hand_back(job, CHAT, holder="w1")
    hour = int(time.time() // 3600)
    assert store.usage_rows(hour, hour) == []
    record = store.get(job)
    assert record.usage is None
    assert store.cancel(job).usage is None  # canceled by the client: no worker measured it
    assert store.usage_rows(hour, hour) == []


def test_rows_name_their_hour_tenant_key_and_type(store) -> None:
    job = running_chat(store, "acme", "key1")
    hour = int(time.time() // 3600)
    store.succeed(job, CHAT, holder="w1", result={}, usage={"device_s": 1.0})
    rows = store.usage_rows(hour, hour + 1)  # the hour may turn meanwhile
    assert UsageRow(rows[0].hour, "acme", "key1", "chat", "device_s", 1.0) in rows
    assert rows[0].hour in (hour, hour + 1)
