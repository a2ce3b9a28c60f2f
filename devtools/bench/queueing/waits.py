"""Interactive jobs' queue wait on an idle queue, then behind a waiting backlog: issue 21's (a batch of the
same tenant) and issue 22's (another tenant's flood of POST /v1/jobs), each in the same run, same worker."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from devtools.bench.api.hey import hey
from devtools.bench.api.report import Row
from devtools.bench.queueing.batches import cancel, create, image_lines, wait_enqueued
from devtools.bench.queueing.client import (
    IMAGE_JOB,
    POLL_S,
    Api,
    job_times,
    post_steadily,
    queue_waits_ms,
    wait_ended,
)
from devtools.bench.queueing.report import backlog_row, summary_ms, wait_rows
from devtools.stack.process import Service
from shared.store.batches import BatchStore

PRIORITY_TARGET = 1.5  # issue 21: interactive p50 and p99 with a batch waiting ≤ 1.5× an idle queue's
FLOOD_CLIENTS = 50  # hey's concurrent clients (it takes no fewer requests than clients)
FAIRNESS_TARGET = 2.0  # issue 22: the other tenant's p50 with one tenant flooding ≤ 2× an idle queue's
DOOR_LINE = "claimed at the interactive door"  # worker/delivery.py's log line for such a claim


@dataclass
class Pause:
    """When the paused worker was let go again (epoch seconds), read right before SIGCONT."""

    resumed_at: float = 0.0


@contextmanager
def paused(worker: Service) -> Iterator[Pause]:
    """The worker's process group stopped (SIGSTOP) for the block, so a backlog builds whole; then resumed.

    The time it resumes is taken before the SIGCONT: a worker that serves the backlog within
    the moment this process waits for the CPU again must not finish before it "resumed".
    """
    pause = Pause()
    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        yield pause
    finally:
        pause.resumed_at = time.time()
        os.killpg(worker.pid, signal.SIGCONT)


@dataclass(frozen=True)
class Waits:
    """Where the interactive rounds run: the stack, the paused worker, and how the jobs are posted."""

    redis: Redis
    store: BatchStore
    worker: Service
    image_model: str
    interactive: int
    rate: float
    timeout: float


def settle(w: Waits, api: Api) -> None:
    """Wait until the image queue is idle and no batch is active (finalized ones retired by the runner)."""
    api.settle(w.redis, w.timeout)
    deadline = time.monotonic() + w.timeout
    while w.store.active():
        if time.monotonic() > deadline:
            raise TimeoutError(f"batches still active after {w.timeout:.0f} s: {w.store.active()}")
        time.sleep(POLL_S)


def interactive_round(w: Waits, api: Api) -> tuple[list[float], int]:
    """Post the round's jobs steadily and wait for them: their queue waits (ms) and the other jobs that
    still waited in the image queue at the last POST."""
    ids = post_steadily(api, w.interactive, w.rate)
    waiting = api.waiting("image")
    mine = sum(t.status == "queued" for t in job_times(w.redis, ids))
    waits = queue_waits_ms(wait_ended(w.redis, ids, w.timeout))
    return waits, max(0, waiting - mine)


@dataclass
class Pooled:
    """The priority rounds' queue waits (ms), pooled: a p99 of 200 jobs is their third-slowest, and
    one round's moves by 2× on a shared machine; the least backlog and the door's claims, summed."""

    idle: list[float]
    loaded: list[float]
    backlog: int
    door: int


def priority_round(w: Waits, api: Api, lines: int, pooled: Pooled) -> None:
    """One idle round, then one beside a `lines`-line batch enqueued while the worker was paused."""
    settle(w, api)
    idle, _ = interactive_round(w, api)
    with paused(w.worker):
        batch_id = create(api, api.upload(image_lines(lines, w.image_model)), "/v1/images/generations")
        wait_enqueued(w.store, batch_id, w.timeout)
    door_before = w.worker.log().count(DOOR_LINE)
    loaded, backlog = interactive_round(w, api)
    pooled.door += w.worker.log().count(DOOR_LINE) - door_before
    cancel(api, w.store, batch_id, w.timeout)
    pooled.idle += idle
    pooled.loaded += loaded
    pooled.backlog = min(pooled.backlog, backlog)


def priority_rows(w: Waits, api: Api, lines: int, rounds: int) -> list[Row]:
    """Issue 21: interactive queue wait p50 and p99, idle vs with a `lines`-line batch of theirs waiting,
    over `rounds` alternated pairs of rounds, pooled."""
    pooled = Pooled([], [], lines, 0)
    for _ in range(rounds):
        priority_round(w, api, lines, pooled)
    jobs = f"{rounds} × {w.interactive} jobs at {w.rate:g}/s"
    return [
        Row(f"interactive queue wait p50 / p99, idle queue ({jobs})", summary_ms(pooled.idle)),
        *wait_rows(
            f"interactive queue wait with a {lines:,}-line batch waiting,",
            pooled.idle,
            pooled.loaded,
            PRIORITY_TARGET,
            p99=True,
        ),
        backlog_row("batch lines", pooled.backlog, lines),
        Row(
            "  interactive jobs claimed at the interactive door (worker/interactive.py)",
            f"{pooled.door} of {rounds * w.interactive}",
        ),
    ]


def fairness_rows(w: Waits, flooder: Api, other: Api, flood: int, body: Path) -> list[Row]:
    """Issue 22: tenant B's queue wait p50, idle vs with tenant A's `flood` jobs waiting (posted with hey)."""
    settle(w, other)
    idle, _ = interactive_round(w, other)
    body.write_text(json.dumps(IMAGE_JOB))
    with paused(w.worker):
        run = hey(
            f"{flooder.url}/v1/jobs", n=flood, c=min(FLOOD_CLIENTS, flood), body=body, headers=flooder.auth
        )
    accepted = run.codes.get(202, 0)
    loaded, backlog = interactive_round(w, other)
    return [
        Row(
            f"tenant B queue wait p50 / p99, idle queue ({w.interactive} jobs at {w.rate:g}/s)",
            summary_ms(idle),
        ),
        *wait_rows(
            f"tenant B queue wait with tenant A's {flood:,} jobs waiting,",
            idle,
            loaded,
            FAIRNESS_TARGET,
            p99=False,
        ),
        Row(
            "  tenant A's flood: POST /v1/jobs answered 202",
            f"{accepted:,} of {flood:,} in {run.seconds:.1f} s (hey -c {min(FLOOD_CLIENTS, flood)})",
            ok=accepted == flood,
        ),
        backlog_row("tenant A's jobs", backlog, accepted),
    ]
