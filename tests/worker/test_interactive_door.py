"""The interactive door's listener (worker/interactive.py) through a Redis outage: it says so once,
not on every retry, says when Redis answers again, and then claims and runs woken jobs as before."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from shared.errors import UnavailableError
from shared.vocabulary import JobType
from tests.fixtures.jobs import new_record
from worker import interactive
from worker.interactive import InteractiveDoor


class FlakyWakes:
    """Wake-ups whose first `outage` waits find Redis away; then one wake-up, then none."""

    def __init__(self, outage: int) -> None:
        self.outage, self.calls = outage, 0

    def wait(self, job_types: list[JobType], timeout_s: float) -> JobType | None:
        self.calls += 1
        if self.calls <= self.outage:
            raise UnavailableError("Redis is unavailable: connection refused")
        if self.calls == self.outage + 1:
            return job_types[0]
        time.sleep(min(timeout_s, 0.01))
        return None


def test_an_outage_is_logged_once_and_the_door_goes_on_after_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(interactive, "RETRY_S", 0.001)
    record = new_record()
    ran = threading.Event()
    claimed: list[JobType] = []

    def claim(job_type: JobType):  # type: ignore[no-untyped-def]
        claimed.append(job_type)
        return record

    wakes = FlakyWakes(outage=5)
    door = InteractiveDoor(wakes, [JobType.IMAGE], 1, (claim, lambda r: ran.set()))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="worker.interactive"):
        door.start()
        try:
            assert ran.wait(10)
        finally:
            door.stop()
    assert wakes.calls > 5
    assert claimed == [JobType.IMAGE]
    messages = [r.getMessage() for r in caplog.records]
    said = [m for m in messages if "Redis is unavailable" in m or "Redis answers again" in m]
    assert len(said) == 2
    assert "Redis is unavailable" in said[0]
    assert "Redis answers again" in said[1]
