"""The threads pool's micro-batcher: concurrent deliveries share a pipeline call; one batch at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared.job_record import JobStatus, JobType
from tests.fixtures.doubles import StepPipeline
from tests.fixtures.jobs import submit
from worker.batcher import MicroBatcher
from worker.delivery import run_job
from worker.metrics import metrics

WAIT = 10.0  # seconds a test waits on a thread or an event before calling it stuck


def until(check: Callable[[], bool]) -> None:
    """Wait on a condition another thread brings about (never on how long work takes)."""
    done = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if check():
            return
        done.wait(0.01)
    raise AssertionError("the condition never held")


class Device:
    """A runner whose batches are recorded; the first one holds the device until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.on_device = threading.Event()

    def run(self, items: list[str], leave: Callable[[], None]) -> None:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.on_device.set()
            assert self.release.wait(WAIT)
        leave()


def submitter(batcher: MicroBatcher[str], device: Device, key: str, item: str) -> threading.Thread:
    batcher.arriving(+1)
    thread = threading.Thread(target=batcher.submit, args=(key, item, device.run))
    thread.start()
    return thread


def test_a_lone_job_with_nothing_to_wait_for_runs_at_once() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(batch_max=8, wait_s=3600, others_waiting=lambda: False)
    device = Device()
    device.release.set()
    thread = submitter(batcher, device, "k", "a")
    thread.join(WAIT)  # it would wait an hour if it waited for company
    assert not thread.is_alive()
    assert device.batches == [["a"]]


def test_jobs_arriving_while_the_device_is_busy_fill_one_batch_up_to_its_cap() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(batch_max=3, wait_s=0, others_waiting=lambda: False)
    device = Device()
    first = submitter(batcher, device, "k", "held")
    assert device.on_device.wait(WAIT)
    others = []
    for item in "bcde":  # one after another: each is in its batch before the next comes
        others.append(submitter(batcher, device, "k", item))
        until(lambda: batcher._arriving == 0)
    assert [len(b.items) for b in batcher._open.values()] == [1]  # "e" opened the next batch
    device.release.set()
    for thread in [first, *others]:
        thread.join(WAIT)
    assert device.batches[0] == ["held"]
    assert sorted(device.batches[1]) == ["b", "c", "d"]
    assert device.batches[2:] == [["e"]]


def test_keys_do_not_mix_and_a_failed_batch_raises_in_each_caller() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(batch_max=4, wait_s=0, others_waiting=lambda: False)
    errors: list[BaseException] = []
    runs: list[list[str]] = []
    gate = threading.Event()

    def run(items: list[str], leave: Callable[[], None]) -> None:
        runs.append(list(items))
        assert gate.wait(WAIT)
        if "bad" in items:
            raise RuntimeError("the batch broke")

    def call(key: str, item: str) -> None:
        try:
            batcher.submit(key, item, run, arrived=False)
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(key, item)) for key, item in (("x", "a"), ("y", "bad"))]
    threads[0].start()
    until(lambda: len(runs) == 1)
    threads[1].start()
    extra = threading.Thread(target=call, args=("y", "bad2"))
    until(lambda: "y" in batcher._open)
    extra.start()
    until(lambda: "y" in batcher._open and len(batcher._open["y"].items) == 2)
    gate.set()
    for thread in [*threads, extra]:
        thread.join(WAIT)
    assert runs[0] == ["a"]
    assert sorted(runs[1]) == ["bad", "bad2"]
    assert len(errors) == 2  # both callers of the failed batch, not the other key's


def test_batches_waiting_for_the_device_take_it_in_the_order_they_asked() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(batch_max=1, wait_s=0, others_waiting=lambda: False)
    device = Device()
    first = submitter(batcher, device, "k", "held")
    assert device.on_device.wait(WAIT)
    waiting = []
    for asked, item in enumerate("abcde", start=1):  # each asks for the device after the one before it
        waiting.append(submitter(batcher, device, item, item))
        until(lambda asked=asked: len(batcher._queued) == asked)
    device.release.set()
    for thread in [first, *waiting]:
        thread.join(WAIT)
    assert device.batches == [["held"], ["a"], ["b"], ["c"], ["d"], ["e"]]


def test_an_urgent_batch_takes_the_device_before_batches_that_waited_longer_without_one() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(batch_max=2, wait_s=0, others_waiting=lambda: False)
    device = Device()
    first = submitter(batcher, device, "k", "held")
    assert device.on_device.wait(WAIT)
    waiting = [submitter(batcher, device, "k", item) for item in ("b1", "b2")]  # full: waits for the device
    until(lambda: len(batcher._queued) == 1)
    urgent = threading.Thread(
        target=batcher.submit, args=("other", "i", device.run), kwargs={"arrived": False, "urgent": True}
    )
    urgent.start()
    until(lambda: len(batcher._queued) == 2)
    device.release.set()
    for thread in [first, *waiting, urgent]:
        thread.join(WAIT)
    assert device.batches[0] == ["held"]
    assert device.batches[1] == ["i"]  # before the batch that waited longer
    assert sorted(device.batches[2]) == ["b1", "b2"]


def test_an_urgent_item_joining_a_waiting_batch_moves_that_batch_ahead() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(batch_max=3, wait_s=0, others_waiting=lambda: False)
    device = Device()
    first = submitter(batcher, device, "k", "held")
    assert device.on_device.wait(WAIT)
    older = [submitter(batcher, device, "a", item) for item in ("a1", "a2", "a3")]  # full, waiting
    until(lambda: len(batcher._queued) == 1)
    newer = submitter(batcher, device, "b", "b1")  # open, and waiting for the device too
    until(lambda: len(batcher._queued) == 2)
    joins = threading.Thread(
        target=batcher.submit, args=("b", "i", device.run), kwargs={"arrived": False, "urgent": True}
    )
    joins.start()
    until(lambda: batcher._queued[1].urgent)
    device.release.set()
    for thread in [first, *older, newer, joins]:
        thread.join(WAIT)
    assert sorted(device.batches[1]) == ["b1", "i"]
    assert sorted(device.batches[2]) == ["a1", "a2", "a3"]


def test_concurrent_deliveries_each_run_a_job_and_share_one_pipeline_call(runtime_for) -> None:
    """Four permits delivered at once into one process: four jobs claimed once each, one batch."""
    deliveries = 4
    release = threading.Event()
    pipeline = StepPipeline(on_step=lambda step: release.wait(WAIT))
    rt = runtime_for(pipeline, worker_pool="threads", batch_max=8, batch_wait_ms=10_000)
    held = submit(rt.store, prompt="held", steps=1)
    holder = threading.Thread(target=run_job, args=(held.id, rt), kwargs={"job_type": JobType.IMAGE})
    holder.start()
    until(lambda: rt.store.get(held.id).status == JobStatus.RUNNING and len(pipeline.batches) == 1)
    jobs = [submit(rt.store, prompt=f"p{i}", steps=1) for i in range(deliveries)]
    ran = metrics().deliveries.labels(JobType.IMAGE, "ran")
    before = ran._value.get()
    threads = [
        threading.Thread(target=run_job, args=(j.id, rt), kwargs={"job_type": JobType.IMAGE}) for j in jobs
    ]
    for thread in threads:
        thread.start()
    lane = rt.lanes.get(JobType.IMAGE)
    until(lambda: sum(len(b.items) for b in lane.batcher._open.values()) == deliveries)
    release.set()
    for thread in [holder, *threads]:
        thread.join(WAIT)
    assert [rt.store.get(j.id).status for j in jobs] == [JobStatus.SUCCEEDED] * deliveries
    assert [rt.store.get(j.id).attempts for j in jobs] == [1] * deliveries  # each claimed once
    assert ran._value.get() - before == deliveries  # every delivery ran a job, none came up empty
    assert [len(b) for b in pipeline.batches] == [1, deliveries]


def test_the_store_away_while_a_leader_waits_strands_no_batch() -> None:
    """A Redis restart while the leader asks whether jobs wait: the batch runs once its window passed."""

    def store_away() -> bool:
        raise ConnectionError("Redis is restarting")

    batcher: MicroBatcher[str] = MicroBatcher(batch_max=4, wait_s=0.05, others_waiting=store_away)
    device = Device()
    device.release.set()
    threads = [submitter(batcher, device, "k", item) for item in "ab"]
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(item for batch in device.batches for item in batch) == ["a", "b"]
    assert batcher._open == {}  # no batch left open for later jobs to join and wait on for ever


def test_a_job_s_time_limit_counts_from_its_batch_taking_the_device(runtime_for) -> None:
    """A job claimed while another batch holds the device for longer than its limit still runs whole."""
    release = threading.Event()
    pipeline = StepPipeline(on_step=lambda step: release.wait(WAIT))
    rt = runtime_for(pipeline, worker_pool="threads", job_time_limit_s=1)
    held = submit(rt.store, prompt="held", steps=1, width=96)
    holder = threading.Thread(target=run_job, args=(held.id, rt), kwargs={"job_type": JobType.IMAGE})
    holder.start()
    until(lambda: len(pipeline.batches) == 1)
    behind = submit(rt.store, prompt="behind", steps=2)  # another batch key: it waits for the device
    waiter = threading.Thread(target=run_job, args=(behind.id, rt), kwargs={"job_type": JobType.IMAGE})
    waiter.start()
    until(lambda: rt.store.get(behind.id).status == JobStatus.RUNNING)
    threading.Event().wait(1.5)  # past its 1 s limit, counted from its claim
    release.set()
    for thread in (holder, waiter):
        thread.join(WAIT)
    assert rt.store.get(behind.id).status == JobStatus.SUCCEEDED


def test_with_two_device_slots_a_second_batch_runs_beside_a_held_one() -> None:
    batcher: MicroBatcher[str] = MicroBatcher(
        batch_max=4, wait_s=0, others_waiting=lambda: False, device_slots=2
    )
    device = Device()
    held = submitter(batcher, device, "x", "held")
    assert device.on_device.wait(WAIT)
    beside = submitter(batcher, device, "y", "beside")
    beside.join(WAIT)  # it ran while "held" still holds one of the two slots
    assert not beside.is_alive()
    assert device.batches == [["held"], ["beside"]]
    device.release.set()
    held.join(WAIT)
