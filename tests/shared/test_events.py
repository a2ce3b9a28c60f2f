from __future__ import annotations

import threading
import time

import pytest
from redis import Redis

from shared.events import EventLog
from shared.hub import EventHub, wait_for_terminal
from shared.job_record import JobStatus, JobType
from shared.redis_conn import connect_blocking
from shared.store import JobStore, Leases, Report
from shared.vocabulary import EventType
from tests.fixtures.jobs import submit


@pytest.fixture
def parts(redis_client: Redis, redis_url: str):  # type: ignore[no-untyped-def]
    store = JobStore(redis_client, job_ttl_s=3600)
    return store, EventLog(redis_client), EventHub(redis_client, connect_blocking(redis_url))


def later(delay: float, action) -> threading.Thread:  # type: ignore[no-untyped-def]
    thread = threading.Thread(target=lambda: (time.sleep(delay), action()))
    thread.start()
    return thread


def test_wait_wakes_on_the_terminal_event(parts) -> None:
    store, _log, hub = parts
    job = submit(store)
    thread = later(0.3, lambda: store.cancel(job.id))
    started = time.monotonic()
    record = wait_for_terminal(store, hub, job.id, timeout_s=20)
    elapsed = time.monotonic() - started
    thread.join()
    assert record.status == JobStatus.CANCELED
    assert 0.25 < elapsed < 10  # woke on the event, long before the 20 s timeout


def test_wait_returns_the_job_as_it_is_when_time_runs_out(parts) -> None:
    store, _log, hub = parts
    job = submit(store)
    assert wait_for_terminal(store, hub, job.id, timeout_s=0.3).status == JobStatus.QUEUED


def test_wait_on_a_finished_job_returns_at_once(parts) -> None:
    store, _log, hub = parts
    job = submit(store)
    store.cancel(job.id)
    assert wait_for_terminal(store, hub, job.id, timeout_s=30).status == JobStatus.CANCELED


def test_many_waits_share_one_reader_and_each_wakes_on_its_own_job(parts, redis_client) -> None:
    store, _log, hub = parts
    jobs = [submit(store) for _ in range(150)]
    results: dict[str, JobStatus] = {}
    readers_before = sum(c.get("cmd") == "xread" for c in redis_client.client_list())

    def wait(job_id: str) -> None:
        results[job_id] = wait_for_terminal(store, hub, job_id, timeout_s=20).status

    threads = [threading.Thread(target=wait, args=(j.id,)) for j in jobs]
    for t in threads:
        t.start()
    time.sleep(0.5)
    readers = sum(c.get("cmd") == "xread" for c in redis_client.client_list()) - readers_before
    for job in jobs[::2]:
        store.cancel(job.id)
    time.sleep(0.5)
    assert len(results) == 75  # only the canceled half woke
    for job in jobs[1::2]:
        store.cancel(job.id)
    for t in threads:
        t.join()
    assert set(results.values()) == {JobStatus.CANCELED}
    assert readers == 1  # 150 waits, one blocked Redis connection


def test_subscriptions_get_new_events_in_order_and_history_resumes(parts, redis_client) -> None:
    store, log, hub = parts
    job = submit(store)
    _, last = store.snapshot(job.id)
    leases = Leases(redis_client, lease_ttl_s=30)

    def run() -> None:
        store.start(job.id, JobType.IMAGE, holder="w", lease_until=time.time() + 30)
        for step in (1, 2):
            data = {"step": step, "total": 2}
            leases.report_many([Report(job.id, "w", EventType.PROGRESS, data, data)])
        store.succeed(job.id, JobType.IMAGE, holder="w", result={})

    seen = []
    with hub.subscribe(job.id, last) as sub:
        thread = later(0.1, run)
        while (event := sub.next(10)) is not None:
            seen.append(event)
            if event.terminal:
                break
    thread.join()
    assert [(e.type, e.data.get("status") or e.data.get("step")) for e in seen] == [
        ("status", "running"),
        ("progress", 1),
        ("progress", 2),
        ("status", "succeeded"),
    ]
    assert [e.id for e in log.history(job.id, after=seen[1].id)] == [e.id for e in seen[2:]]
    assert len(log.history(job.id)) == 5
