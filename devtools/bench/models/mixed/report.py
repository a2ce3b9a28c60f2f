"""The mixed-load section: per variant and load, tokens/s and time to first token, each against the first."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from devtools.bench.api.report import pct
from devtools.bench.models.mixed.client import LoadRun

HEADING = "## Chat under mixed load (CPU)"


@dataclass(frozen=True)
class Summary:
    """One variant under one load over every round: the median round's tokens/s, the pooled TTFTs."""

    variant: str
    load: str
    rates: list[float]  # tokens/s of each round
    tokens: list[int]  # completion tokens of each round
    others: list[float]  # cores other processes kept busy during each round
    reruns: int  # loads run again as disturbed
    ttft_p50_ms: float
    ttft_p99_ms: float
    succeeded: int
    jobs: int

    @property
    def rate(self) -> float:
        """The median round's tokens/s."""
        return statistics.median(self.rates)


def summarise(variant: str, load: str, runs: list[LoadRun]) -> Summary:
    """Summarise one variant's rounds of one load; TTFT percentiles over every job of every round."""
    ttfts = [t for run in runs for t in run.ttfts_ms()] or [float("nan")]
    return Summary(
        variant,
        load,
        [run.rate for run in runs],
        [run.tokens for run in runs],
        [run.other_cores for run in runs],
        sum(run.reruns for run in runs),
        pct(ttfts, 50),
        pct(ttfts, 99),
        sum(run.succeeded for run in runs),
        sum(len(run.jobs) for run in runs),
    )


def _ratio(value: float, first: float) -> str:
    return f"{value / first:.2f}×" if first > 0 else "—"


def table(summaries: list[Summary]) -> str:
    """The markdown table, each figure beside its ratio to the first variant's under the same load."""
    first: dict[str, Summary] = {}
    for s in summaries:
        first.setdefault(s.load, s)
    lines = [
        "| variant | load | tokens/s, median (each round) | ÷ first "
        "| TTFT p50 | ÷ first | TTFT p99 | ÷ first | completion tokens, median round | jobs succeeded "
        "| other processes, cores (each round; reruns) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in summaries:
        base = first[s.load]
        rounds = "/".join(f"{r:,.0f}" for r in s.rates)
        lines.append(
            f"| {s.variant} | {s.load} | {s.rate:,.0f} ({rounds}) | {_ratio(s.rate, base.rate)} "
            f"| {s.ttft_p50_ms:,.0f} ms | {_ratio(s.ttft_p50_ms, base.ttft_p50_ms)} "
            f"| {s.ttft_p99_ms:,.0f} ms | {_ratio(s.ttft_p99_ms, base.ttft_p99_ms)} "
            f"| {statistics.median(s.tokens):,.0f} | {s.succeeded} of {s.jobs} "
            f"| {'/'.join(f'{c:.2f}' for c in s.others)}; {s.reruns} |"
        )
    return "\n".join(lines)


NOTES = """Each variant runs a stack of its own, from its own tree (`git worktree` at its revision; `now`
is this checkout): Redis, the API under `api/gunicorn_conf.py` (two gevent workers, the tree's defaults
but the per-key, tenant, queue and stream caps raised out of reach) and ONE Celery worker on the chat
queue with the tree's default settings and the tiny chat model (var/models/tiny-chat, on the CPU). Every
variant is started and warmed up (32 jobs of 32 tokens at once) before the first round; then rounds
alternate between the variants, load by load, so the shared machine's noise falls on all of them alike,
and each load starts on an idle worker (its jobs all ended, the chat queue's Celery list empty).
The load: {jobs} chat jobs of one prompt, sampled (temperature 0.8, top_p 0.95, job i with seed i),
`max_tokens` drawn uniformly from 8..256 with seed {seed} (replies may end earlier at end-of-text; the
same seeds run under every variant), posted through `POST /v1/jobs` (a) steadily at {rate:g} jobs/s on
average (exponential gaps drawn from the same seed; on 2 cores that asks one worker for more tokens a
second than the tiny model makes, so a queue builds in the steady load too) and (b) all at once.
Every job has a client thread of its own that posts it and reads its `GET /v1/jobs/{{id}}/events` stream
to `done` with the `llmb` CLI's follower (cli/events.py). TTFT: from just before the job's POST to its
first `token` event read by its client (the worker coalesces token events every `LLMB_EVENT_INTERVAL_MS`,
50 ms by default); p50 and p99 (nearest rank) over every job of every round. tokens/s: completion tokens
of the jobs that succeeded (from the `done` event's `result.usage`) ÷ the time from the load's first POST
to its last `done` read; the median round, each round in parentheses. Ratios are to the first variant
under the same load (for TTFT, lower is better).
Other processes: the cores the rest of the machine kept busy during each kept round (busy time in
/proc/stat less this benchmark's process tree); a load during which they passed {max_other:g} cores was
run again (reruns allowed: {reruns}), and the least disturbed try kept (a worker's two torch threads slow
down by 2× and more when a third process takes a core).
Issue 17's targets for the new worker design against the one before it: TTFT p99 ≤ 0.25× under both loads;
tokens/s all at once ≥ 1.0× (aim 1.5×)."""


def render(facts: list[str], summaries: list[Summary], **sizes: float) -> str:
    """The markdown section: how, where and when it ran, the table, then how it measures (`sizes`: jobs,
    seed, rate, max_other and reruns, as the notes name them)."""
    notes = NOTES.format(**sizes)
    return "\n".join([HEADING, "", "  \n".join(facts), "", table(summaries), "", notes, ""])
