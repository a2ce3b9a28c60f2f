"""Redis under Sentinel (issue 23): one setting moves every client; a create can wait for replicas;
after a real failover the store reloads its scripts on the new master and the event hub's reader moves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.stack.sentinel import SentinelSet, ask
from devtools.stack.servers import start_redis
from shared import redis_keys
from shared.celery_config import make_celery
from shared.errors import UnavailableError
from shared.hub import EventHub
from shared.job_record import JobStatus
from shared.redis_conn import connect, connect_blocking
from shared.redis_target import RedisTarget
from shared.settings import Settings, load_settings
from shared.store import JobStore
from tests.fixtures.jobs import new_record, submit


@pytest.fixture
def redis_set(tmp_path: Path) -> Iterator[SentinelSet]:
    services: list = []  # type: ignore[type-arg]
    try:
        yield SentinelSet(tmp_path / "set", services=services).start()
    finally:
        while services:
            services.pop().stop()


def sentinel_settings(redis_set: SentinelSet) -> Settings:
    env = redis_set.env
    return load_settings(redis_sentinels=env["LLMB_REDIS_SENTINELS"], redis_master=env["LLMB_REDIS_MASTER"])


def test_one_setting_names_the_sentinels_for_the_clients_and_the_broker() -> None:
    settings = load_settings(
        redis_url="redis://ignored:6379/3",
        redis_sentinels="s1:5000, s2",
        redis_master="m",
        redis_password="p w",
    )
    target = RedisTarget.of(settings)
    assert target.sentinels == (("s1", 5000), ("s2", 26379))
    assert target.broker_url() == "sentinel://:p%20w@s1:5000/3;sentinel://:p%20w@s2:26379/3"
    app = make_celery(settings)
    assert app.conf.broker_transport_options["master_name"] == "m"
    assert app.conf.broker_transport_options["visibility_timeout"] == settings.visibility_timeout_s
    plain = make_celery(load_settings(redis_url="redis://127.0.0.1:1/0"))
    assert plain.conf.broker_url == "redis://127.0.0.1:1/0"
    assert "master_name" not in plain.conf.broker_transport_options
    with pytest.raises(ValueError, match="LLMB_REDIS_SENTINELS: 'h:x' is not host:port"):
        RedisTarget.of(load_settings(redis_sentinels="h:x"))


def test_a_create_is_answered_once_the_replicas_it_asks_for_hold_it(redis_set: SentinelSet) -> None:
    client = connect(sentinel_settings(redis_set))
    try:
        copied = JobStore(client, job_ttl_s=3600, write_replicas=2, write_wait_ms=5000).create(new_record())
        assert ask(redis_set.master_port(), "EXISTS", redis_keys.job(copied.record.id)) == 1
        record = new_record()
        too_many = JobStore(client, job_ttl_s=3600, write_replicas=3, write_wait_ms=200)
        with pytest.raises(UnavailableError, match="reached 2 of 3 Redis replicas within 200 ms"):
            too_many.create(record)
    finally:
        client.connection_pool.disconnect()


def test_after_a_failover_the_scripts_are_loaded_again_and_the_hub_reader_moves(
    redis_set: SentinelSet,
) -> None:
    settings = sentinel_settings(redis_set)
    client = connect(settings)
    store = JobStore(client, job_ttl_s=3600)
    hub = EventHub(client, connect_blocking(settings))
    try:
        job = submit(store)
        waiting = hub.subscribe(job.id, "0-0")
        assert waiting.next(timeout=30) is not None  # the reader runs: the job's first event reached it
        assert ask(redis_set.master_port(), "WAIT", "2", "5000") == 2
        new = redis_set.wait_promoted(redis_set.kill_master())
        sha = store._create._script.sha  # type: ignore[attr-defined]
        assert ask(new, "SCRIPT", "EXISTS", sha) == [0]  # the promoted replica lacks the script: NOSCRIPT
        second = until_available(lambda: submit(store))
        assert store.get(second.id).status == JobStatus.QUEUED  # loaded again, ran on the new master
        store.cancel(job.id)
        moved = waiting.next(timeout=30)
        assert moved is not None  # the hub's blocked reader moved to the new master
        assert moved.data["status"] == "canceled"
        waiting.close()
    finally:
        hub.close()
        client.connection_pool.disconnect()


def test_a_master_refusing_writes_for_want_of_replicas_is_unavailable(tmp_path: Path) -> None:
    redis = start_redis(tmp_path / "alone")
    client = connect(f"redis://127.0.0.1:{redis.port}/0")
    try:
        client.config_set("min-replicas-to-write", 1)  # a stale master after a split brain, so configured
        with pytest.raises(UnavailableError, match="until a replica is back: NOREPLICAS"):
            JobStore(client, job_ttl_s=3600).create(new_record())
        hub = EventHub(client, connect_blocking(f"redis://127.0.0.1:{redis.port}/0"))
        hub.subscribe("some-job", "0-0").close()  # its wake-up write is refused: logged, not raised
        hub.close()
    finally:
        client.connection_pool.disconnect()
        redis.stop()


def until_available(action, *, timeout: float = 60):  # type: ignore[no-untyped-def]
    """`action()`'s result once Redis answers (UnavailableError while Sentinel has no master to name)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except UnavailableError:
            assert time.monotonic() < deadline, f"Redis did not come back within {timeout} s"
            time.sleep(0.1)
