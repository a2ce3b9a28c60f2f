"""Session-wide real services: a redis-server per session, an S3 server when a test asks for one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from devtools.stack.process import Service, wait_until
from devtools.stack.servers import S3_ACCESS_KEY, S3_SECRET_KEY, start_redis, start_s3
from shared.errors import StorageError
from shared.redis_conn import connect
from shared.settings import Settings, load_settings


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread per process (this one and every service it starts), unless OMP_NUM_THREADS is set.

    The suite runs several model processes at once on 2 cores: with torch's default of a thread per
    core they spin against each other, and a 512x512 image that takes 2 s took 39 s beside two busy
    loops (1.5 s with one thread), past the API's 60 s wait on a loaded machine.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")


# Unit tests share one server and flush this database before each test; integration
# tests start servers of their own.
UNIT_DB = 1


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = start_redis(tmp_path_factory.mktemp("redis"))
    yield svc
    svc.stop()


@pytest.fixture
def redis_url(redis_service: Service) -> str:
    return f"redis://127.0.0.1:{redis_service.port}/{UNIT_DB}"


@pytest.fixture
def redis_client(redis_url: str) -> Redis:
    client = connect(redis_url)
    client.flushdb()
    return client


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, redis_client: Redis) -> Settings:
    return load_settings(redis_url=redis_url, data_dir=tmp_path)


@pytest.fixture(scope="session")
def s3_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = start_s3(tmp_path_factory.mktemp("s3"), bucket="llmb")
    settings = s3_settings_for(svc, Path("/nonexistent"), "redis://127.0.0.1:1/0")
    from shared.storage.s3 import S3Store

    store = S3Store.from_settings(settings)

    def bucket_ready() -> bool:
        try:
            store.check()
        except StorageError:
            return False
        return True

    wait_until(bucket_ready, timeout=60, what="the S3 bucket")
    yield svc
    svc.stop()


def s3_settings_for(svc: Service, data_dir: Path, redis_url: str, **overrides: object) -> Settings:
    """Settings that point the object store at the test S3 server."""
    return load_settings(
        redis_url=redis_url,
        data_dir=data_dir,
        storage="s3",
        s3_endpoint_url=f"http://127.0.0.1:{svc.port}",
        s3_access_key=S3_ACCESS_KEY,
        s3_secret_key=S3_SECRET_KEY,
        **overrides,
    )


# The longest single tests, started first: under `make test`'s work stealing (pytest-xdist
# --dist worksteal) the others then share out around them, and no worker is left running one alone
# at the end. Only the order changes.
LONGEST_FIRST = ("tests/devtools/chaos/test_quick.py::",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the LONGEST_FIRST tests to the front, the rest in their order."""
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))
