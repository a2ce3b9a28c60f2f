"""How many deliveries a worker runs at once, and its interactive door's threads (worker/slots.py)."""

from __future__ import annotations

import pytest

from shared.settings import Settings
from worker.pipelines.chat import TransformersChatPipeline
from worker.pipelines.engine import CHAT_PLACES, CPU_PAGES_PER_PLACE, cache_pages
from worker.slots import deliveries, door_slots


def worker(**settings: object) -> Settings:
    return Settings(**{"worker_pool": "threads", **settings})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"queues": "chat"}, CHAT_PLACES),  # a thread per place in the engine's batch
        ({"queues": "chat", "chat_max_requests": 40}, 40),
        ({"queues": "image"}, 16),  # (1 batch on the device + 1 forming) x LLMB_BATCH_MAX 8
        ({"queues": "image,embed", "device_batches": 2, "batch_max": 4}, 24),
        ({"queues": "image,chat"}, 16 + CHAT_PLACES),
        ({"queues": "chat", "chat_engine": "static"}, 16),  # the static engine batches like images
        ({"queues": "image", "concurrency": 3}, 3),  # the operator's number
        ({"queues": "image", "worker_pool": "prefork"}, 1),  # one job a pool process
    ],
)
def test_deliveries_per_worker(settings: dict[str, object], expected: int) -> None:
    assert deliveries(worker(**settings)) == expected


def test_the_door_has_a_batch_of_threads_under_the_threads_pool_only() -> None:
    assert door_slots(worker(batch_max=6)) == 6
    assert door_slots(worker(worker_pool="prefork")) == 0
    assert door_slots(worker(concurrency=1)) == 0  # one job at a time, as the operator said


def test_the_chat_engine_has_as_many_places_as_a_chat_worker_has_threads_and_pages_for_them() -> None:
    options = TransformersChatPipeline(worker(queues="chat", device="cpu")).options
    assert options.max_requests == CHAT_PLACES == deliveries(worker(queues="chat"))
    assert cache_pages(options, on_cpu=True) == CPU_PAGES_PER_PLACE * CHAT_PLACES
    assert cache_pages(options, on_cpu=False) is None  # a GPU: the library sizes it from free memory
    chosen = TransformersChatPipeline(worker(chat_max_requests=8, chat_cache_blocks=5)).options
    assert (chosen.max_requests, cache_pages(chosen, on_cpu=True)) == (8, 5)
