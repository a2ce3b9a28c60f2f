"""Issue 21's batch throughput: N jobs as one batch file against the same N jobs posted one by one, with no
other traffic (the batch class must not be slowed when nothing else waits)."""

from __future__ import annotations

import time

from devtools.bench.api.report import Row
from devtools.bench.queueing.batches import create, image_lines, wait_ended_batch, wait_enqueued
from devtools.bench.queueing.client import IMAGE_JOB, Api, Times, wait_ended
from devtools.bench.queueing.report import at_least
from devtools.bench.queueing.waits import Waits

THROUGHPUT_TARGET = 0.9  # issue 21: batch ≥ 0.9× the same jobs posted one by one


def _rate(n: int, start: float, times: list[Times]) -> float:
    """Jobs/s from `start` (epoch s) until the last one finished; RuntimeError if any did not succeed."""
    failed = [t.status for t in times if t.status != "succeeded"]
    if failed:
        raise RuntimeError(f"{len(failed)} of {n} jobs did not succeed: {sorted(set(failed))}")
    return n / (max(t.finished or t.created for t in times) - start)


def one_by_one(w: Waits, api: Api, n: int) -> float:
    """Jobs/s of `n` jobs POSTed one after another through one keep-alive connection."""
    api.settle(w.redis, w.timeout)
    start = time.time()
    ids = [api.call("POST", "/v1/jobs", IMAGE_JOB)["id"] for _ in range(n)]
    return _rate(n, start, wait_ended(w.redis, ids, w.timeout))


def as_batch(w: Waits, api: Api, n: int) -> float:
    """Jobs/s of the same `n` jobs as a batch: upload, create, and the runner's turns included."""
    data = image_lines(n, w.image_model)
    api.settle(w.redis, w.timeout)
    start = time.time()
    batch_id = create(api, api.upload(data), "/v1/images/generations")
    wait_enqueued(w.store, batch_id, w.timeout)
    entries = w.store.lines(batch_id, 0, n)
    ids = [e[2:] for e in entries if e.startswith("j:")]
    if len(ids) != n:
        raise RuntimeError(f"the runner refused {n - len(ids)} of {n} lines: {entries[:3]}")
    rate = _rate(n, start, wait_ended(w.redis, ids, w.timeout))
    wait_ended_batch(w.store, batch_id, w.timeout)  # finalized, so the runner is idle for what follows
    return rate


def throughput_rows(w: Waits, api: Api, n: int) -> list[Row]:
    """Batch throughput against the same jobs posted one by one, held to THROUGHPUT_TARGET×."""
    single = one_by_one(w, api, n)
    batched = as_batch(w, api, n)
    metric = f"batch throughput, {n:,} lines, no other traffic (upload → last finished)"
    what = f"the same {n:,} jobs POSTed one by one (first POST → last finished)"
    return [at_least(metric, batched, single, THROUGHPUT_TARGET, what)]
