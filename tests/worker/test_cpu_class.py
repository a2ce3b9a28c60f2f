"""Batch jobs run in Linux's SCHED_BATCH class for their delivery's run, and only they
(worker/cpu_class.py); an OS that refuses the class costs one log line and nothing else."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.fixtures.jobs import new_record
from worker import cpu_class
from worker.delivery import _holding

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling classes")


class Keeper:
    def __init__(self) -> None:
        self.tracked: set[str] = set()

    def track(self, job_id: str, job_type: object) -> None:
        self.tracked.add(job_id)

    def untrack(self, job_id: str) -> None:
        self.tracked.discard(job_id)


@pytest.fixture(autouse=True)
def fresh_class() -> Iterator[None]:
    cpu_class._refused.clear()
    yield
    cpu_class._refused.clear()


def classes_during_a_run(*priorities: str) -> tuple[int, int, int]:
    """On a thread of its own: its class before, while holding jobs of these priorities, and after."""
    seen: list[int] = []

    def run() -> None:
        seen.append(os.sched_getscheduler(0))
        with _holding(SimpleNamespace(keeper=Keeper())) as hold:  # type: ignore[arg-type]
            for priority in priorities:
                hold(new_record().model_copy(update={"priority": priority}))
            seen.append(os.sched_getscheduler(0))
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    before, during, after = seen
    return before, during, after


def test_a_batch_job_runs_in_the_batch_class_and_its_thread_goes_back_after() -> None:
    assert classes_during_a_run("batch") == (os.SCHED_OTHER, os.SCHED_BATCH, os.SCHED_OTHER)


def test_an_interactive_job_runs_in_the_default_class() -> None:
    assert classes_during_a_run("interactive") == (os.SCHED_OTHER, os.SCHED_OTHER, os.SCHED_OTHER)


def test_the_first_job_of_a_run_decides_its_class() -> None:
    # An interactive job claimed first keeps the run in the default class, mates or not.
    assert classes_during_a_run("interactive", "batch")[1] == os.SCHED_OTHER
    assert classes_during_a_run("batch", "interactive")[1] == os.SCHED_BATCH


def test_only_the_running_thread_moves() -> None:
    # Other threads of the process (the door, Celery's consumer) keep their class meanwhile.
    moved = threading.Event()
    done = threading.Event()
    outcome: list[bool] = []

    def batch_thread() -> None:
        outcome.append(cpu_class.to_batch_class())
        moved.set()
        done.wait(10)
        cpu_class.to_normal_class()

    thread = threading.Thread(target=batch_thread)
    thread.start()
    assert moved.wait(10)
    try:
        assert outcome == [True]
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
    finally:
        done.set()
        thread.join()


def test_a_refused_class_is_logged_once_and_jobs_run_as_before(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def refuse(pid: int, policy: int, param: object) -> None:
        calls.append(policy)
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    with caplog.at_level(logging.INFO, logger="worker.cpu_class"):
        assert classes_during_a_run("batch") == (os.SCHED_OTHER, os.SCHED_OTHER, os.SCHED_OTHER)
        assert classes_during_a_run("batch")[1] == os.SCHED_OTHER
    assert calls == [os.SCHED_BATCH]  # refused once; no thread asks again
    assert not cpu_class.supported()
    refusals = [r for r in caplog.records if "SCHED_BATCH refused" in r.getMessage()]
    assert len(refusals) == 1


@pytest.mark.parametrize(("priority", "during"), [("batch", os.SCHED_BATCH), ("interactive", os.SCHED_OTHER)])
def test_a_finisher_thread_finishes_a_job_in_its_priority_s_class(
    monkeypatch: pytest.MonkeyPatch, priority: str, during: int
) -> None:
    # The finishers (worker/runtime.py) encode and store each job's result and finish it: batch work
    # for a batch job, on threads that also finish interactive ones.
    from worker import runner

    seen: list[int] = []
    monkeypatch.setattr(runner, "finish", lambda *args: seen.append(os.sched_getscheduler(0)))
    job = SimpleNamespace(
        record=new_record().model_copy(update={"priority": priority}), job=SimpleNamespace(stop=None)
    )

    def finish_one() -> None:
        runner._finish(SimpleNamespace(), job, "output", {})  # type: ignore[arg-type]
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=finish_one)
    thread.start()
    thread.join()
    assert seen == [during, os.SCHED_OTHER]
