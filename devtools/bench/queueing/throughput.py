"""Issue 21's batch throughput: N jobs as one batch file against the same N jobs posted one by one, with no
other traffic (the batch class must not be slowed when nothing else waits).

Judged: how fast the worker serves each from a full backlog (submitted while it was paused), so the
comparison is of the queue's service, not of how fast one client can POST. Shown beside it: each end to
end with the worker running throughout (the first request until the last job finished).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace

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


def backlog_rate(w: Waits, api: Api, n: int, submit: Submit) -> float:
    """Jobs/s served from a full backlog: submitted while the worker is paused, resumed → last finished."""
    settle(w, api)
    with paused(w.worker) as pause:
        ids = submit(w, api, n)
    return _rate(n, pause.resumed_at, wait_ended(w.redis, ids, w.timeout))


def end_to_end_rate(w: Waits, api: Api, n: int, submit: Submit) -> float:
    """Jobs/s with the worker running throughout: the first request → the last job finished."""
    settle(w, api)
    start = time.time()
    ids = submit(w, api, n)
    return _rate(n, start, wait_ended(w.redis, ids, w.timeout))


def throughput_rows(w: Waits, api: Api, n: int, rounds: int) -> list[Row]:
    """Batch throughput against the same jobs posted one by one (median of `rounds`, alternated), held to
    THROUGHPUT_TARGET×; then each end to end once."""
    single, batched = [], []
    for _ in range(rounds):
        single.append(backlog_rate(w, api, n, one_by_one))
        batched.append(backlog_rate(w, api, n, as_batch))
    each = {k: "/".join(f"{r:,.0f}" for r in v) for k, v in (("single", single), ("batch", batched))}
    metric = f"batch throughput, {n:,} lines, no other traffic, from a full backlog, median of {rounds}"
    what = f"the same {n:,} jobs POSTed one by one ({each['single']}), median"
    row = at_least(metric, statistics.median(batched), statistics.median(single), THROUGHPUT_TARGET, what)
    batched_e2e, single_e2e = (end_to_end_rate(w, api, n, f) for f in (as_batch, one_by_one))
    return [
        replace(row, measured=f"{row.measured} ({each['batch']})"),
        Row(
            "  end to end, the worker running: batch (upload → last finished) / one by one (first POST → …)",
            f"{batched_e2e:,.1f} / {single_e2e:,.1f} jobs/s",
            ratio=batched_e2e / single_e2e,
        ),
    ]
