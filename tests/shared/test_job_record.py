from __future__ import annotations

import itertools

import pytest

from shared.errors import InvalidTransitionError
from shared.job_record import (
    ErrorInfo,
    JobRecord,
    JobStatus,
    JobType,
    Progress,
    check_transition,
    may_start_from,
)
from shared.vocabulary import ErrorCode

# Written out by hand from DESIGN.md, so the table in shared/job_record.py is checked, not restated.
ALLOWED = {
    ("queued", "running"),
    ("queued", "canceled"),
    ("running", "running"),
    ("running", "queued"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("running", "canceled"),
}
PAIRS = list(itertools.product([s.value for s in JobStatus], repeat=2))


@pytest.mark.parametrize(("current", "new"), [p for p in PAIRS if p in ALLOWED])
def test_allowed_transitions_pass(current: str, new: str) -> None:
    check_transition(JobStatus(current), JobStatus(new))


@pytest.mark.parametrize(("current", "new"), [p for p in PAIRS if p not in ALLOWED])
def test_forbidden_transitions_raise(current: str, new: str) -> None:
    with pytest.raises(InvalidTransitionError, match=f"{current} job cannot become {new}"):
        check_transition(JobStatus(current), JobStatus(new))


def test_exactly_three_statuses_are_terminal() -> None:
    assert {s for s in JobStatus if s.terminal} == {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}


def test_record_round_trips_through_the_redis_encoding() -> None:
    record = JobRecord(
        id="j1",
        type=JobType.IMAGE,
        owner="o",
        status=JobStatus.FAILED,
        input={"prompt": "a fox", "width": 64},
        created_at=1_700_000_000.123456,
        started_at=1_700_000_001.5,
        finished_at=None,
        attempts=2,
        progress=Progress(step=1, total=4),
        result={"files": [{"key": "results/j1/0.png"}]},
        error=ErrorInfo(code=ErrorCode.TIMEOUT, message="too slow"),
        holder="",
    )
    raw = {k.encode(): v.encode() for k, v in record.to_redis().items()}
    assert JobRecord.from_redis(raw) == record
    assert raw[b"finished_at"] == b""


def test_a_start_may_come_from_queued_or_a_lost_worker_s_running() -> None:
    assert may_start_from(JobStatus.RUNNING) == "queued running"
    assert may_start_from(JobStatus.RUNNING, only_from=JobStatus.QUEUED) == "queued"


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED])
def test_only_a_running_job_finishes(status: JobStatus) -> None:
    assert may_start_from(status) == "running"


def test_a_job_is_canceled_while_queued_or_running_and_only_a_running_one_goes_back_in_line() -> None:
    assert may_start_from(JobStatus.CANCELED) == "queued running"
    assert may_start_from(JobStatus.QUEUED) == "running"
