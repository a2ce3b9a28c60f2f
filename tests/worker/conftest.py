"""Worker tests' runtime: a real Redis store and leases, the test's pipeline, local storage."""

from __future__ import annotations

import pytest
from redis import Redis

from shared.settings import Settings
from shared.storage import ObjectStore, open_storage
from shared.store import JobStore, Leases
from tests.fixtures.doubles import Pipelines
from worker.keeper import LeaseKeeper
from worker.pipelines.base import Pipeline
from worker.runtime import WorkerRuntime


def make_runtime(
    settings: Settings, client: Redis, pipeline: Pipeline, storage: ObjectStore | None = None
) -> WorkerRuntime:
    leases = Leases(client, lease_ttl_s=settings.lease_ttl_s)
    return WorkerRuntime(
        settings=settings,
        store=JobStore(client, job_ttl_s=settings.job_ttl_s),
        leases=leases,
        storage=storage or open_storage(settings),
        pipelines=Pipelines(pipeline),
        keeper=LeaseKeeper(leases, "test-holder"),
        holder="test-holder",
    )


@pytest.fixture
def runtime_for(settings: Settings, redis_client: Redis):  # type: ignore[no-untyped-def]
    def build(pipeline: Pipeline, storage: ObjectStore | None = None, **overrides: object) -> WorkerRuntime:
        # One run_job call per delivery, in this thread: a prefork pool process's view (it gathers
        # its batch mates itself); tests of concurrent deliveries ask for worker_pool="threads".
        update = {"worker_pool": "prefork", **overrides}
        return make_runtime(settings.model_copy(update=update), redis_client, pipeline, storage)

    return build
