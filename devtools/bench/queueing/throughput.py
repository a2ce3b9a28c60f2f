"""Issue 21's batch throughput: N jobs as one batch file against the same N jobs posted one by one, with no
other traffic (the batch class must not be slowed when nothing else waits).

Judged: how fast the worker serves each from a full backlog (submitted while it was paused), so the
comparison is of the queue's service, not of how fast one client can POST. Shown beside it: each end to
end with the worker running throughout (the first request until the last job finished).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devtools.bench.api.report import Row
from devtools.bench.queueing.batches import create, image_lines, wait_enqueued
from devtools.bench.queueing.client import IMAGE_JOB, Api, Times, wait_ended
from devtools.bench.queueing.report import at_least
from devtools.bench.queueing.waits import Waits, paused, settle

THROUGHPUT_TARGET = 0.9  # issue 21: batch ≥ 0.9× the same jobs posted one by one
Submit = Callable[[Waits, Api, int], list[str]]


def _rate(n: int, start: float, times: list[Times]) -> float:
    """Jobs/s from `start` (epoch s) until the last one finished; RuntimeError if any did not succeed."""
    failed = [t.status for t in times if t.status != "succeeded"]
    if failed:
        raise RuntimeError(f"{len(failed)} of {n} jobs did not succeed: {sorted(set(failed))}")
    return n / (max(t.finished or t.created for t in times) - start)


def one_by_one(w: Waits, api: Api, n: int) -> list[str]:
    """`n` jobs POSTed one after another through one keep-alive connection; their ids."""
    return [api.call("POST", "/v1/jobs", IMAGE_JOB)["id"] for _ in range(n)]


def as_batch(w: Waits, api: Api, n: int) -> list[str]:
    """The same `n` jobs as a batch, uploaded, created and enqueued by the runner; its lines' job ids."""
    batch_id = create(api, api.upload(image_lines(n, w.image_model)), "/v1/images/generations")
    wait_enqueued(w.store, batch_id, w.timeout)
    entries = w.store.lines(batch_id, 0, n)
    ids = [e[2:] for e in entries if e.startswith("j:")]
    if len(ids) != n:
        raise RuntimeError(f"the runner refused {n - len(ids)} of {n} lines: {entries[:3]}")
    return ids


def rates(w: Waits, api: Api, n: int, submit: Submit) -> tuple[float, float]:
    """Jobs/s served from a full backlog (worker resumed → last finished), and end to end with the worker
    running (first request → last finished)."""
    settle(w, api)
    with paused(w.worker):
        ids = submit(w, api, n)
    resumed = time.time()
    backlog = _rate(n, resumed, wait_ended(w.redis, ids, w.timeout))
    settle(w, api)
    start = time.time()
    ids = submit(w, api, n)
    return backlog, _rate(n, start, wait_ended(w.redis, ids, w.timeout))


def throughput_rows(w: Waits, api: Api, n: int) -> list[Row]:
    """Batch throughput against the same jobs posted one by one, held to THROUGHPUT_TARGET×."""
    single, single_e2e = rates(w, api, n, one_by_one)
    batched, batched_e2e = rates(w, api, n, as_batch)
    metric = f"batch throughput, {n:,} lines, no other traffic, from a full backlog (resumed → last finished)"
    what = f"the same {n:,} jobs POSTed one by one, from a full backlog"
    return [
        at_least(metric, batched, single, THROUGHPUT_TARGET, what),
        Row(
            "  end to end, the worker running: batch (upload → last finished) / one by one (first POST → …)",
            f"{batched_e2e:,.1f} / {single_e2e:,.1f} jobs/s",
            ratio=batched_e2e / single_e2e,
        ),
    ]
