"""The queueing section's rows: percentiles of queue waits, ratios held against their targets, and notes."""

from __future__ import annotations

from devtools.bench.api.report import Row, pct

HEADING = "## Queueing: batches and tenants (make bench)"
NOTES = """Ratio: measured ÷ the same-run baseline; pass/fail against the target. One stack: Redis, the API
under `api/gunicorn_conf.py` (one worker, auth on, the per-key, tenant and queue caps raised out of
reach), the batch runner (`python -m api.batches`) and one Celery worker on the `image` queue running
`devtools.pipelines:ScriptedImagePipeline` (a 1-step "ok" image: no model, no sleep), so the figures are
the queue's, not a model's. Every job and batch line is that same image job (64×64, 1 step; the batch
lines through `/v1/images/generations`), so they share a batch key; tenant A posts the batches and the
flood, tenant B (a key of another tenant) the jobs measured beside the flood. The chat batch has no
worker for its queue, so its lines stay waiting until the batch is cancelled.
Lines enqueued/s: from `POST /v1/batches` until the batch's `request_counts.total` lines each have their
outcome in the runner's line list (polled in Redis every 20 ms). Peak RSS growth: the process's VmHWM
(reset through /proc/PID/clear_refs just before) less its VmRSS before; the API worker's over
`POST /v1/files` alone, the runner's from the create until every line is a job.
Queue wait: `started_at − created_at` of each job (the record's epoch floats in Redis; `GET /v1/jobs/{id}`
shows the same times rounded to ms), for interactive jobs POSTed one by one on a fixed schedule at a
rate the worker keeps up with. Every round, and each half of the throughput comparison, starts once the
image queue is idle (nothing waiting or running, its Celery list empty). A loaded round starts right
after its backlog (the batch, or tenant A's flood) was enqueued while the worker was paused (SIGSTOP,
then SIGCONT: the same worker process throughout), so the whole backlog waits when it starts; "still
waiting" is the queue's `waiting` (GET /v1/queues) at the round's last POST, less the round's own jobs.
The priority figures take `--rounds` pairs, each an idle round and then one beside a new batch, and
pool their waits before taking percentiles (one round's p99 of 200 jobs is its third-slowest, and it
moved by 2× between runs); "still waiting" is then the least of the loaded rounds'.
Throughput: jobs ÷ (the last job's `finished_at` − the worker's resumption), the jobs submitted while
it was paused: POSTed one by one through one keep-alive connection, or as one batch file (upload,
create, every line a job), so the ratio compares how the queue serves either, not how fast one client
POSTs (the pair alternated, each round in parentheses, the medians compared: the shared machine's
load moves single rounds by 2× and more); then each once end to end with the worker running, from the
first request."""


def summary_ms(values: list[float]) -> str:
    """`p50 / p99 ms` of a list of milliseconds."""
    return f"{pct(values, 50):.1f} / {pct(values, 99):.1f} ms"


def at_most(metric: str, value: float, baseline: float, limit: float, what: str) -> Row:
    """A row holding value ÷ baseline to at most `limit`× (`what` names the baseline)."""
    ratio = value / baseline if baseline > 0 else float("inf")
    return Row(
        metric, f"{value:,.1f} ms", f"{what} {baseline:,.1f} ms; target ≤ {limit:g}×", ratio, ratio <= limit
    )


def at_least(metric: str, value: float, baseline: float, limit: float, what: str) -> Row:
    """A row holding value ÷ baseline to at least `limit`× (`what` names the baseline)."""
    ratio = value / baseline if baseline > 0 else 0.0
    text = f"{what} {baseline:,.1f} jobs/s; target ≥ {limit:g}×"
    return Row(metric, f"{value:,.1f} jobs/s", text, ratio, ratio >= limit)


def wait_rows(label: str, idle: list[float], loaded: list[float], limit: float, *, p99: bool) -> list[Row]:
    """Queue wait p50 (and p99 when asked) under load against the idle queue's, each held to `limit`×."""
    quantiles = (50, 99) if p99 else (50,)
    return [
        at_most(f"{label} p{q}", pct(loaded, q), pct(idle, q), limit, f"idle queue p{q}") for q in quantiles
    ]


def backlog_row(what: str, waiting: int, total: int) -> Row:
    """How much of the backlog still waited at the last measured POST; none means the round proves nothing."""
    note = "the backlog was there throughout" if waiting else "**drained before the round ended: not valid**"
    return Row(
        f"  {what} still waiting at the last interactive POST",
        f"{waiting:,} of {total:,}",
        note,
        ok=waiting > 0,
    )
