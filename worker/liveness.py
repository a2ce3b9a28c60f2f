"""Whether this worker still consumes: jobs wait, it has room, yet nothing arrived for a while."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shared.errors import UnavailableError
from shared.job_record import JobType
from shared.store import JobStore

# Longer than any pause between deliveries a healthy consumer with free room would show.
STALL_S = 60.0


class ConsumeWatch:
    """Tells a stuck consumer (celery#10205: silent after a Redis reconnect) from an idle one."""

    def __init__(
        self, store: JobStore, *, job_types: list[JobType], capacity: int, busy: Callable[[], int]
    ) -> None:
        self.store = store
        self.job_types = job_types
        self.capacity = capacity
        self.busy = busy
        self.last_received = time.monotonic()

    def received(self) -> None:
        """Note that the consumer just took a message."""
        self.last_received = time.monotonic()

    def stalled(self) -> bool:
        """True when messages wait, a slot is free, and none was taken for STALL_S."""
        if self.busy() >= self.capacity or time.monotonic() - self.last_received < STALL_S:
            return False
        try:
            return self.store.backlog(self.job_types) > 0
        except UnavailableError:
            return False  # Redis is down: restarting this worker would not help


def touch(path: Path | None) -> None:
    """Mark the worker alive for a liveness probe that checks the file's age."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
