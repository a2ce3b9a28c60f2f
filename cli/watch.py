"""Sources of job snapshots for following a job to its end; long-waiting now, events later."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from cli.client import TERMINAL, ApiClient, Job


class SnapshotSource(Protocol):
    """Yields the job as it changes until it is terminal or `timeout` seconds pass."""

    def __call__(self, client: ApiClient, job_id: str, *, timeout: float | None) -> Iterator[Job]: ...


def long_wait(
    client: ApiClient,
    job_id: str,
    *,
    timeout: float | None,
    step_s: int = 1,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Job]:
    """Yield the job about every `step_s` seconds, the server holding each answer, until it ends."""
    deadline = None if timeout is None else clock() + timeout
    while True:
        wait_s = step_s if deadline is None else max(0, min(step_s, math.ceil(deadline - clock())))
        job = client.job(job_id, wait_s=wait_s)
        yield job
        if job["status"] in TERMINAL or wait_s == 0:
            return
