"""A job that ends without a result keeps no objects: not this run's, not an earlier run's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shared.errors import NotFoundError, StorageError
from shared.job_record import JobStatus
from shared.storage import result_prefix
from shared.storage.local import LocalStore
from shared.vocabulary import ErrorCode
from tests.fixtures.doubles import StepPipeline
from tests.fixtures.jobs import submit
from worker.delivery import run_job


class ScriptedStorage(LocalStore):
    """A real local store that runs `before_put(key)` first (to fail a write, or cancel its job)."""

    def __init__(self, root: Path, before_put: Callable[[str], None]) -> None:
        super().__init__(root)
        self.before_put = before_put

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.before_put(key)
        super().put(key, data, content_type=content_type)


def objects(storage: LocalStore, job_id: str) -> list[str]:
    folder = storage.root / result_prefix(job_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_job_whose_second_image_cannot_be_stored_fails_and_keeps_not_its_first(
    runtime_for, tmp_path: Path
) -> None:
    def second_fails(key: str) -> None:
        if key.endswith("/1.png"):
            raise StorageError("the store went away")

    storage = ScriptedStorage(tmp_path, second_fails)
    rt = runtime_for(StepPipeline(), storage, storage_backoff_s=0.01)
    job = submit(rt.store, prompt="ok", steps=1, num_images=2)

    run_job(job.id, rt)

    record = rt.store.get(job.id)
    assert (record.status, record.error.code) == (JobStatus.FAILED, ErrorCode.STORAGE_UNAVAILABLE)
    assert objects(storage, job.id) == []


def test_a_job_canceled_while_its_result_uploads_keeps_no_object(runtime_for, tmp_path: Path) -> None:
    def cancel_first(key: str) -> None:  # the client cancels while the first upload is under way
        if key.endswith("/0.png"):
            rt.store.cancel(job.id)

    storage = ScriptedStorage(tmp_path, cancel_first)
    rt = runtime_for(StepPipeline(), storage)
    job = submit(rt.store, prompt="ok", steps=1, num_images=2)

    run_job(job.id, rt)

    assert rt.store.get(job.id).status == JobStatus.CANCELED
    assert objects(storage, job.id) == []


def test_a_canceled_job_keeps_no_object_of_an_earlier_run(runtime_for, tmp_path: Path) -> None:
    storage = LocalStore(tmp_path)
    rt = runtime_for(StepPipeline(on_step=lambda step: rt.store.cancel(job.id)), storage)
    job = submit(rt.store, prompt="ok", steps=3)
    storage.put(f"{result_prefix(job.id)}0.png", b"from a run that died", content_type="image/png")

    run_job(job.id, rt)

    assert rt.store.get(job.id).status == JobStatus.CANCELED
    assert objects(storage, job.id) == []


def test_a_succeeded_job_keeps_its_objects(runtime_for, tmp_path: Path) -> None:
    storage = LocalStore(tmp_path)
    rt = runtime_for(StepPipeline(), storage)
    job = submit(rt.store, prompt="ok", steps=1, num_images=2)

    run_job(job.id, rt)

    assert rt.store.get(job.id).status == JobStatus.SUCCEEDED
    assert objects(storage, job.id) == ["0.png", "1.png"]
    try:
        storage.get(f"{result_prefix(job.id)}0.png")
    except NotFoundError:  # pragma: no cover - the assertion below says what went wrong
        raise AssertionError("the result object is gone") from None


class FlakyDeleteStorage(LocalStore):
    """A real local store whose first `fails` deletes fail, as a store just back from an outage may."""

    def __init__(self, root: Path, fails: int) -> None:
        super().__init__(root)
        self.fails = fails

    def delete_prefix(self, prefix: str) -> int:
        if self.fails:
            self.fails -= 1
            raise StorageError("the store is not back yet")
        return super().delete_prefix(prefix)


def test_a_canceled_job_s_objects_are_deleted_though_the_first_delete_fails(
    runtime_for, tmp_path: Path
) -> None:
    storage = FlakyDeleteStorage(tmp_path, fails=1)
    rt = runtime_for(
        StepPipeline(on_step=lambda step: rt.store.cancel(job.id)), storage, storage_backoff_s=0.01
    )
    job = submit(rt.store, prompt="ok", steps=3)
    storage.put(f"{result_prefix(job.id)}0.png", b"from a run that died", content_type="image/png")

    run_job(job.id, rt)

    assert rt.store.get(job.id).status == JobStatus.CANCELED
    assert (storage.fails, objects(storage, job.id)) == (0, [])
