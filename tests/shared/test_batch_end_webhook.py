"""A batch's end schedules its webhook once, in the write that ends it (save_batch.lua), on a real Redis."""

from __future__ import annotations

import time

from redis import Redis

from shared import redis_keys
from shared.store.batches import BatchRecord, BatchStore

HOOK = {"url": "https://hooks.example.com/x", "events": ["batch.completed", "batch.cancelled"]}


def record(batch_id: str, **fields: object) -> BatchRecord:
    now = int(time.time())
    base = {"owner": "t", "key_id": "k", "endpoint": "/v1/embeddings", "input_file_id": "file-1"}
    return BatchRecord.model_validate(
        {"id": batch_id, "created_at": now, "expires_at": now + 60, **base, **fields}
    )


def scheduled(redis_client: Redis, batch_id: str) -> list[str]:
    members = redis_client.zrange(redis_keys.webhook_deliveries(), 0, -1)
    return [m.decode() for m in members if m.decode().startswith(batch_id + "|")]


def test_an_ended_batch_schedules_its_webhook_once_however_often_it_is_written(redis_client: Redis) -> None:
    store = BatchStore(redis_client)
    made = record("batch_once", webhook=HOOK)
    store.create(made)
    store.save(made.model_copy(update={"status": "in_progress"}))
    assert scheduled(redis_client, "batch_once") == []  # running: nothing to tell yet
    ended = made.model_copy(update={"status": "completed", "completed_at": int(time.time())})
    store.save(ended)
    assert scheduled(redis_client, "batch_once") == ["batch_once|batch.completed"]
    redis_client.zrem(
        redis_keys.webhook_deliveries(), "batch_once|batch.completed"
    )  # the sender delivered it
    store.save(ended)  # a restarted runner writes the ended batch again
    assert scheduled(redis_client, "batch_once") == []
    assert store.load("batch_once")[0].status == "completed"


def test_an_end_the_webhook_did_not_ask_for_or_no_webhook_schedules_nothing(redis_client: Redis) -> None:
    store = BatchStore(redis_client)
    for batch_id, hook in (("batch_expiring", HOOK), ("batch_plain", None)):
        made = record(batch_id, webhook=hook)
        store.create(made)
        store.save(made.model_copy(update={"status": "expired", "expired_at": int(time.time())}))
        assert scheduled(redis_client, batch_id) == []
        assert store.load(batch_id)[0].status == "expired"
