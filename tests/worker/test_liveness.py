from __future__ import annotations

import time
from pathlib import Path

from redis import Redis

from shared.job_record import JobType
from shared.store import JobStore, Leases
from worker.keeper import Housekeeper, HousekeeperConfig
from worker.liveness import STALL_S, ConsumeWatch


def watch(client: Redis, busy: int = 0) -> ConsumeWatch:
    store = JobStore(client, job_ttl_s=60)
    return ConsumeWatch(store, job_types=[JobType.IMAGE, JobType.CHAT], capacity=1, busy=lambda: busy)


def test_idle_worker_with_an_empty_queue_is_alive(redis_client: Redis) -> None:
    w = watch(redis_client)
    w.last_received = time.monotonic() - STALL_S - 1
    assert not w.stalled()


def test_waiting_messages_and_a_free_slot_but_no_delivery_is_a_stall(redis_client: Redis) -> None:
    redis_client.lpush("chat", b"{}")
    w = watch(redis_client)
    assert not w.stalled()  # a delivery was recent (at start)
    w.last_received = time.monotonic() - STALL_S - 1
    assert w.stalled()
    w.received()
    assert not w.stalled()
    busy = watch(redis_client, busy=1)
    busy.last_received = time.monotonic() - STALL_S - 1
    assert not busy.stalled()  # a long job, not a stuck consumer


def test_the_alive_file_is_touched_only_while_consuming(redis_client: Redis, tmp_path: Path) -> None:
    alive = tmp_path / "alive"
    w = watch(redis_client)
    plan = HousekeeperConfig(
        worker_id="w", job_types=[JobType.IMAGE], max_attempts=3, interval_s=1, watch=w, alive_file=alive
    )
    keeper = Housekeeper(JobStore(redis_client, job_ttl_s=60), Leases(redis_client, lease_ttl_s=30), plan)
    keeper.tick()
    assert alive.exists()
    alive.unlink()
    redis_client.lpush("image", b"{}")
    w.last_received = time.monotonic() - STALL_S - 1
    keeper.tick()
    assert not alive.exists()


def test_an_idle_worker_repairs_a_lost_permit_after_two_rounds_and_only_then(redis_client: Redis) -> None:
    from shared import redis_keys
    from shared.store.permits import Permits
    from tests.fixtures.jobs import submit

    store = JobStore(redis_client, job_ttl_s=60)
    jobs = [submit(store) for _ in range(2)]
    queue = redis_keys.celery_queue(JobType.IMAGE)
    busy = [1]
    w = ConsumeWatch(store, job_types=[JobType.IMAGE], capacity=4, busy=lambda: busy[0])
    plan = HousekeeperConfig(
        worker_id="w",
        job_types=[JobType.IMAGE],
        max_attempts=3,
        interval_s=1,
        watch=w,
        permits=Permits(redis_client),
    )
    keeper = Housekeeper(store, Leases(redis_client, lease_ttl_s=30), plan)
    keeper.tick()
    assert redis_client.llen(queue) == 2  # one message a waiting job: nothing to repair
    redis_client.delete(queue)  # both messages lost (a dropped BRPOP connection)
    keeper.tick()
    keeper.tick()
    assert redis_client.llen(queue) == 0  # this worker is busy: its own deliveries may be about to claim
    busy[0] = 0
    keeper.tick()
    assert redis_client.llen(queue) == 0  # the first idle round only notes it
    keeper.tick()
    assert redis_client.llen(queue) == 1  # the second pushes one, for the first waiting job
    assert jobs[0].id.encode() in redis_client.lindex(queue, 0)  # type: ignore[operator]
    keeper.tick()
    assert redis_client.llen(queue) == 1  # a message is there again: nothing more
