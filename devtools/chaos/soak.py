"""One soak run: start the stack, drive the load, strike on schedule, let every job finish, audit it all."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx

from devtools.chaos import batch
from devtools.chaos.access import Access, open_access
from devtools.chaos.audit import JobView, job_ids, read_jobs, read_objects
from devtools.chaos.batch import BatchEnd
from devtools.chaos.checks import Findings, check
from devtools.chaos.cluster import Cluster
from devtools.chaos.driver import Driver, Tally
from devtools.chaos.faults import FAULTS, Soak
from devtools.chaos.figures import Measured, Timeline, measure
from devtools.chaos.logs import held_deliveries, log_counts
from devtools.chaos.mix import Mix
from devtools.chaos.plan import REDIS_RESTART, S3_OUTAGE, Plan
from devtools.chaos.usage import UsageCheck, check_usage
from devtools.stack.process import wait_until as poll
from shared import redis_keys

TERMINAL = {b"succeeded", b"failed", b"canceled"}
UPLOAD_RETRIES_S = 10.0  # past an S3 outage's end, uploads that were retrying may still hold threads


@dataclass
class Outcome:
    """Everything a soak run found, for the table and docs/CHAOS.md."""

    plan: Plan
    root: Path
    started: float  # epoch seconds when the load began
    load_s: float
    wall_s: float
    tally: Tally
    views: dict[str, JobView]
    objects: dict[str, bool]
    measured: list[Measured]
    findings: Findings
    logs: dict[str, int]
    held: list[str]  # jobs a worker received and sat on (logs.held_deliveries)
    workers_started: int
    crashes: int  # workers a poison job's crash took down (threads: the worker is its process), replaced
    batch: BatchEnd  # the /v1/batches batch run beside the load, as it ended
    usage: UsageCheck  # the jobs' usage summed against GET /v1/usage and /metrics


def say(started: float, text: str) -> None:
    """One line of progress, stamped with the seconds since the load began."""
    print(f"[{time.time() - started:7.1f} s] {text}", flush=True)


def run(plan: Plan, root: Path) -> Outcome:
    """The whole soak under `root` (data and logs); the stack is stopped whatever happens."""
    began = time.monotonic()
    cluster = Cluster(root, plan)
    soak: Soak | None = None
    try:
        cluster.start()
        access = open_access(cluster.api_url, cluster.admin, batch_active=plan.batch_active)
        soak = Soak(cluster, Driver(cluster.api_url, Mix(plan), access.load.headers), plan)
        outcome = _load_and_audit(soak, access, root)
    finally:
        if soak is not None:
            with contextlib.suppress(RuntimeError):
                soak.driver.stop()
        cluster.stop()
    # The workers' logs are read once they have stopped, their last words written.
    # Deliveries that arrive while Redis is away wait for their claim; while S3 is away, for a thread:
    # every one of the worker's threads may be retrying an upload (storage_tries, with backoff).
    outages = [(f.at, f.until) for f in soak.faults if f.kind == REDIS_RESTART]
    outages += [(f.at, f.until + UPLOAD_RETRIES_S) for f in soak.faults if f.kind == S3_OUTAGE]
    outcome.logs, outcome.held = log_counts(root / "logs"), held_deliveries(root / "logs", outages)
    outcome.wall_s = time.monotonic() - began
    return outcome


def _load_and_audit(soak: Soak, access: Access, root: Path) -> Outcome:
    """The batch and the load, the faults on schedule, then the audit of every job, the batch and usage."""
    plan, cluster, since = soak.plan, soak.cluster, time.time()
    with httpx.Client(base_url=cluster.api_url, timeout=10, headers=access.batch.headers) as http:
        submitted = batch.submit(http, plan.batch_lines)  # as the load starts: the faults meet it
        started = time.time()
        soak.driver.start()
        _strike(soak, started)
        tally, load_s = _finish_load(soak, started), time.time() - started
        ended = batch.finish(http, submitted, plan.drain_s)
    say(started, f"batch {submitted.batch_id} ended {ended.batch.get('status')}: {ended.counts}")
    views = _drain_and_read(cluster, tally, started)
    reading = time.time()
    usage = check_usage(cluster.api_url, access, views, since, reading)
    say(started, f"usage of {usage.jobs_read} jobs read and compared in {time.time() - reading:.1f} s")
    objects = read_objects(cluster.stack.env)
    ended.stored = {k for k in objects if k.startswith(batch.FILES)}
    results = {k: whole for k, whole in objects.items() if k not in ended.stored}
    timeline = Timeline(views)
    return Outcome(
        plan=plan,
        root=root,
        started=started,
        load_s=load_s,
        wall_s=0.0,
        tally=tally,
        views=views,
        objects=results,
        measured=[measure(f, timeline) for f in soak.faults],
        findings=check(views, results, tally, soak.faults, cluster.crash_victims),
        logs={},  # read by `run` once the stack has stopped
        held=[],
        workers_started=cluster.started,
        crashes=cluster.crashes,
        batch=ended,
        usage=usage,
    )


def _strike(soak: Soak, started: float) -> None:
    """Each fault of the schedule at its time (or as soon as the one before it is over)."""
    for step in soak.plan.steps:
        time.sleep(max(0.0, started + step.at_s - time.time()))  # the schedule, not a wait for a condition
        soak.cluster.check_workers()
        try:
            fault = FAULTS[step.kind](soak, step)
        except TimeoutError as exc:  # what it needed never came: the run goes on, the report says so
            say(started, f"{step.kind} skipped: {exc}")
            continue
        soak.faults.append(fault)
        say(started, f"{fault.kind}: {fault.detail}  ({soak.driver.accepted} jobs accepted)")


def _finish_load(soak: Soak, started: float) -> Tally:
    """Keep submitting until the plan's number of jobs was accepted, then stop."""
    left = max(0, soak.plan.target_jobs - soak.driver.accepted)
    poll(
        lambda: soak.driver.accepted >= soak.plan.target_jobs,
        timeout=60 + 3 * left / soak.plan.rate,
        what=f"{soak.plan.target_jobs} accepted jobs",
        every=0.5,
    )
    tally = soak.driver.stop()
    say(started, f"load stopped: {len(tally.accepted)} accepted, refused {dict(tally.refused)}")
    return tally


def _drain_and_read(cluster: Cluster, tally: Tally, started: float) -> dict[str, JobView]:
    """Wait (up to the plan's drain time) until every stored job finished; then read them all."""
    r = cluster.client()
    ids = sorted(job_ids(r) | {s.job_id for s in tally.accepted})

    def unfinished() -> list[str]:
        """The stored jobs not finished yet."""
        pipe = r.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(redis_keys.job(job_id), "status")
        return [
            j for j, s in zip(ids, cast(list[bytes | None], pipe.execute()), strict=True) if s not in TERMINAL
        ]

    try:
        poll(lambda: not unfinished(), timeout=cluster.plan.drain_s, what="every job finished", every=1.0)
        say(started, f"all {len(ids)} stored jobs finished")
    except TimeoutError:
        say(started, f"not finished after {cluster.plan.drain_s:.0f} s: {unfinished()[:20]}")
    return read_jobs(r, ids)
