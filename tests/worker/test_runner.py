from __future__ import annotations

import threading
import time
from pathlib import Path

from shared.job_record import JobStatus, JobType
from shared.storage.local import LocalStore
from shared.vocabulary import ErrorCode
from tests.fixtures.doubles import FailingPipeline, FailingStorage, StepPipeline
from tests.fixtures.jobs import new_record, submit
from worker.delivery import run_job
from worker.pipelines.base import Pipeline
from worker.runtime import WorkerRuntime
from worker.steps import HAND_BACK

IMAGE = JobType.IMAGE


def run_as(rt: WorkerRuntime, job_id: str, holder: str, *, lease_in: float) -> None:
    """Mark the job running under another (perhaps long gone) worker, releasing a previous one's hold."""
    record = rt.store.get(job_id)
    if record.status == JobStatus.RUNNING:
        assert rt.store.release_lost(record, max_attempts=100, permit=False)
    started = rt.store.start(job_id, IMAGE, holder=holder, lease_until=time.time() + lease_in)
    assert started is not None


def test_a_job_runs_and_its_files_land_under_deterministic_keys(runtime_for) -> None:
    rt = runtime_for(StepPipeline())
    job = submit(rt.store, prompt="ok", steps=3, num_images=2, width=64, height=64)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.SUCCEEDED
    assert record.attempts == 1
    assert record.progress is not None
    assert (record.progress.step, record.progress.total) == (3, 3)
    keys = [f["key"] for f in record.result["files"]]
    assert keys == [f"results/{job.id}/0.png", f"results/{job.id}/1.png"]
    assert rt.storage.get(keys[1]).startswith(b"\x89PNG")


def test_a_second_delivery_of_a_finished_job_does_nothing(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline)
    job = submit(rt.store)
    run_job(job.id, rt)
    finished = rt.store.get(job.id)
    run_job(job.id, rt)
    assert rt.store.get(job.id) == finished
    assert len(pipeline.batches) == 1


def test_a_pipeline_error_fails_the_job_with_a_readable_error(runtime_for) -> None:
    rt = runtime_for(FailingPipeline())
    job = submit(rt.store)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.FAILED
    assert record.error is not None
    assert record.error.code == ErrorCode.INTERNAL
    assert "the model exploded" in record.error.message


def test_the_worker_rechecks_inputs(runtime_for) -> None:
    rt = runtime_for(StepPipeline())
    record = new_record(prompt="ok")
    job = rt.store.create(record.model_copy(update={"input": {**record.input, "width": 4096}})).record
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.FAILED
    assert record.error.code == ErrorCode.INVALID_INPUT
    assert "input.width" in record.error.message


def test_cancel_mid_run_stops_at_the_next_step_and_stores_nothing(runtime_for) -> None:
    holder: dict[str, WorkerRuntime] = {}
    job_ids: list[str] = []

    def cancel_at_two(step: int) -> None:
        if step == 2:
            holder["rt"].store.cancel(job_ids[0])

    pipeline = StepPipeline(on_step=cancel_at_two)
    rt = holder["rt"] = runtime_for(pipeline)
    job = submit(rt.store, prompt="ok", steps=10)
    job_ids.append(job.id)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.CANCELED
    assert record.progress.step == 1
    assert record.result is None


def test_a_job_past_its_time_limit_fails_with_timeout(runtime_for) -> None:
    rt = runtime_for(StepPipeline(), job_time_limit_s=1)
    job = submit(rt.store, prompt="hold", steps=5)  # holds at its first step until it is stopped
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.FAILED
    assert record.error.code == ErrorCode.TIMEOUT
    assert record.progress.step == 1


def test_storage_down_fails_after_bounded_retries(runtime_for) -> None:
    storage = FailingStorage()
    rt = runtime_for(StepPipeline(), storage, storage_backoff_s=0.01)
    job = submit(rt.store)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.FAILED
    assert record.error.code == ErrorCode.STORAGE_UNAVAILABLE
    assert storage.tries == 3
    assert record.result is None


def test_a_job_held_by_a_live_worker_is_left_alone(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline)
    job = submit(rt.store)
    run_as(rt, job.id, "elsewhere:1:x", lease_in=30)
    run_job(job.id, rt)
    assert rt.store.get(job.id).status == JobStatus.RUNNING
    assert pipeline.batches == []


def test_a_job_whose_workers_keep_dying_fails_with_worker_lost(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline, max_attempts=3)
    job = submit(rt.store)
    for attempt in range(3):
        run_as(rt, job.id, f"gone:{attempt + 1}:x", lease_in=-1)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.FAILED
    assert record.error.code == ErrorCode.WORKER_LOST
    assert record.attempts == 3
    assert pipeline.batches == []


def test_a_lapsed_job_is_taken_over_with_one_more_attempt(runtime_for) -> None:
    rt = runtime_for(StepPipeline())
    job = submit(rt.store)
    run_as(rt, job.id, "gone:1:x", lease_in=-1)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert (record.status, record.attempts) == (JobStatus.SUCCEEDED, 2)


def test_waiting_compatible_jobs_run_in_one_batch_and_others_wait(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline, batch_max=3, batch_wait_ms=0)
    jobs = [submit(rt.store, prompt=f"p{i}", steps=2, width=64, height=64) for i in range(4)]
    odd = submit(rt.store, prompt="other size", steps=2, width=128, height=64)
    run_job(jobs[0].id, rt)
    assert [len(b) for b in pipeline.batches] == [3]
    assert [i.prompt for i in pipeline.batches[0]] == ["p0", "p1", "p2"]
    statuses = [rt.store.get(j.id).status for j in [*jobs, odd]]
    assert statuses == [JobStatus.SUCCEEDED] * 3 + [JobStatus.QUEUED] * 2
    for job in jobs[:3]:
        assert rt.storage.get(f"results/{job.id}/0.png").startswith(b"\x89PNG")


def test_a_lone_job_does_not_wait_for_company(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline, batch_max=8, batch_wait_ms=5000)
    job = submit(rt.store)
    started = time.monotonic()
    run_job(job.id, rt)
    assert time.monotonic() - started < 2
    assert rt.store.get(job.id).status == JobStatus.SUCCEEDED


def test_a_canceled_job_in_a_batch_stops_alone(runtime_for) -> None:
    jobs: list[str] = []
    holder: dict[str, WorkerRuntime] = {}

    def cancel_second(step: int) -> None:
        if step == 2:
            holder["rt"].store.cancel(jobs[1])

    pipeline = StepPipeline(on_step=cancel_second)
    rt = holder["rt"] = runtime_for(pipeline, batch_max=4, batch_wait_ms=0)
    jobs += [submit(rt.store, prompt=f"p{i}", steps=5).id for i in range(3)]
    run_job(jobs[0], rt)
    assert len(pipeline.batches) == 1
    records = [rt.store.get(j) for j in jobs]
    assert [r.status for r in records] == [JobStatus.SUCCEEDED, JobStatus.CANCELED, JobStatus.SUCCEEDED]
    assert records[1].result is None
    assert records[0].progress.step == records[2].progress.step == 5


def test_out_of_memory_splits_the_batch_and_retries(runtime_for) -> None:
    pipeline = StepPipeline(fits=2)
    rt = runtime_for(pipeline, batch_max=4, batch_wait_ms=0)
    jobs = [submit(rt.store, prompt=f"p{i}") for i in range(4)]
    run_job(jobs[0].id, rt)
    assert [len(b) for b in pipeline.batches] == [4, 2, 2]
    assert {rt.store.get(j.id).status for j in jobs} == {JobStatus.SUCCEEDED}


def test_a_job_too_big_even_alone_fails_with_resource_exhausted(runtime_for) -> None:
    pipeline = StepPipeline(fits=0)
    rt = runtime_for(pipeline, batch_max=2, batch_wait_ms=0)
    first, second = submit(rt.store), submit(rt.store)
    run_job(first.id, rt)
    assert [len(b) for b in pipeline.batches] == [2, 1, 1]
    for job in (first, second):
        record = rt.store.get(job.id)
        assert record.status == JobStatus.FAILED
        assert record.error.code == ErrorCode.RESOURCE_EXHAUSTED


class BrokenPipelines:
    """A pipeline source whose model cannot load."""

    def get(self, job_type: object) -> Pipeline:
        raise FileNotFoundError("model folder var/models/nowhere does not exist (run `make models`)")


def test_a_pipeline_that_cannot_load_fails_the_job_with_the_reason(runtime_for) -> None:
    rt = runtime_for(StepPipeline())
    rt.pipelines = BrokenPipelines()
    job = submit(rt.store)
    run_job(job.id, rt)
    record = rt.store.get(job.id)
    assert record.status == JobStatus.FAILED
    assert "make models" in record.error.message


def test_the_type_hint_takes_a_queued_job_and_falls_back_for_others(runtime_for) -> None:
    rt = runtime_for(StepPipeline(), batch_max=1)
    queued = submit(rt.store)
    run_job(queued.id, rt, job_type=IMAGE)
    assert (rt.store.get(queued.id).status, rt.store.get(queued.id).attempts) == (JobStatus.SUCCEEDED, 1)
    lapsed = submit(rt.store)
    run_as(rt, lapsed.id, "gone:1:x", lease_in=-1)
    run_job(lapsed.id, rt, job_type=IMAGE)
    assert (rt.store.get(lapsed.id).status, rt.store.get(lapsed.id).attempts) == (JobStatus.SUCCEEDED, 2)
    finished = rt.store.get(queued.id)
    run_job(queued.id, rt, job_type=IMAGE)
    assert rt.store.get(queued.id) == finished


def test_a_job_the_model_refuses_fails_alone_as_invalid_input(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline, batch_max=4, batch_wait_ms=0)
    jobs = [submit(rt.store, prompt=p) for p in ("p0", "refuse", "p2")]
    run_job(jobs[0].id, rt)
    records = [rt.store.get(j.id) for j in jobs]
    assert [r.status for r in records] == [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SUCCEEDED]
    assert records[1].error.code == ErrorCode.INVALID_INPUT
    assert "this model cannot draw that" in records[1].error.message
    assert [len(b) for b in pipeline.batches] == [2]


def test_a_job_that_breaks_its_batch_fails_alone_and_its_mates_succeed(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline, batch_max=4, batch_wait_ms=0)
    jobs = [submit(rt.store, prompt=p) for p in ("p0", "p1", "poison", "p3")]
    run_job(jobs[0].id, rt)
    records = [rt.store.get(j.id) for j in jobs]
    assert [r.status for r in records] == [JobStatus.SUCCEEDED] * 2 + [JobStatus.FAILED, JobStatus.SUCCEEDED]
    assert records[2].error.code == ErrorCode.INTERNAL
    assert "a poisoned input broke the batch" in records[2].error.message
    assert [len(b) for b in pipeline.batches] == [4, 2, 2, 1, 1]


def test_a_stopping_worker_hands_its_running_jobs_back_first_in_line(runtime_for, redis_client) -> None:
    asked: list[int] = []

    def stop_worker(step: int) -> None:
        if step == 2 and not asked:
            asked.append(step)
            HAND_BACK.set()

    rt = runtime_for(StepPipeline(on_step=stop_worker))
    job = submit(rt.store, prompt="ok", steps=5)
    later = submit(rt.store, prompt="later")
    redis_client.delete("image")
    try:
        run_job(job.id, rt)
    finally:
        HAND_BACK.clear()
    record = rt.store.get(job.id)
    assert (record.status, record.attempts, record.holder, record.result) == (JobStatus.QUEUED, 1, "", None)
    assert rt.store.position(record) == 1
    assert rt.store.get(later.id).status == JobStatus.QUEUED
    assert redis_client.llen("image") == 1  # its message is back, where the next worker takes it first
    run_job(job.id, rt)
    assert (rt.store.get(job.id).status, rt.store.get(job.id).attempts) == (JobStatus.SUCCEEDED, 2)


class MeetingStorage(LocalStore):
    """A local store whose writes wait until `parties` of them are under way at once (or time out)."""

    def __init__(self, root: Path, parties: int) -> None:
        super().__init__(root)
        self.meeting = threading.Barrier(parties, timeout=30)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.meeting.wait()  # a write made alone, one job after another, breaks the barrier
        super().put(key, data, content_type=content_type)


def test_a_batch_s_results_are_stored_side_by_side(runtime_for, tmp_path) -> None:
    rt = runtime_for(StepPipeline(), MeetingStorage(tmp_path, parties=3), batch_max=3, batch_wait_ms=0)
    jobs = [submit(rt.store, prompt=f"p{i}", steps=1, width=64, height=64) for i in range(3)]
    run_job(jobs[0].id, rt)
    assert [rt.store.get(j.id).status for j in jobs] == [JobStatus.SUCCEEDED] * 3


def test_a_batch_takes_its_mates_in_the_fair_order_so_it_mixes_tenants(runtime_for) -> None:
    pipeline = StepPipeline()
    rt = runtime_for(pipeline, batch_max=4, batch_wait_ms=0)
    flood = [rt.store.create(new_record(owner="a", prompt=f"a{i}")).record for i in range(10)]
    few = [rt.store.create(new_record(owner="b", prompt=f"b{i}")).record for i in range(2)]
    run_job(flood[0].id, rt, job_type=IMAGE)
    assert [i.prompt for i in pipeline.batches[0]] == ["a0", "b0", "a1", "b1"]
    assert all(rt.store.get(j.id).status == JobStatus.SUCCEEDED for j in flood[:2] + few)
