"""`make bench`'s table: judged rows, the CPU it and the rest of the machine used, and its markdown."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devtools.bench.document import commit, machine

HEADING = "## API (make bench)"
NOTES = """Ratio: measured ÷ the same-run baseline where there is one, else ÷ the target; pass/fail is always
against the target. Every API runs under `api/gunicorn_conf.py` (gevent, `worker_connections` 1000), one
worker unless stated, with default settings except that the per-key and queue caps are raised out of
reach (the limiter counts every job, refuses none); the bare app runs under the same file. hey is
pinned to one core (`-cpus 1`). /health req/s is the mean of its rounds, POST jobs/s the median of its
rounds (each round in parentheses); /health latencies are the median of 3 hey runs (each run's p99 in
brackets).
Serial jobs go through one keep-alive stdlib HTTP connection (httpx would add about 1.5 ms a request
of its own); job timings use the job record's epoch floats in Redis, written on the same host as the
client clock. A long-wait
(`GET /v1/jobs/{id}?wait=60` on a queued job) is in flight from its request's last byte sent until its
answer, counted by the client; the API's event hub subscribing to each one is counted in Redis (one XADD
to the hub's wake stream per subscription, from `INFO commandstats`). The Redis clients are those in
`CLIENT LIST` while the waits are held, the benchmark's own connection left out. The waits end when the
benchmark cancels their jobs (`POST /v1/jobs/{id}/cancel`, one after another). "Other processes" is the
CPU the rest of the machine used meanwhile (busy time in /proc/stat less the benchmark's own process tree):
above about 0.2 cores, the figures are disturbed."""


@dataclass(frozen=True)
class Row:
    """One line of the table; `ok` is None for a line that only informs."""

    metric: str
    measured: str
    baseline: str = ""
    ratio: float | None = None
    ok: bool | None = None


def judged(
    metric: str, value: float, unit: str, goal: str, *, baseline: tuple[str, float] | None = None
) -> Row:
    """A row held against its goal ("< 5" or "≥ 1000" in `unit`), its ratio taken to the baseline if any."""
    sign, target = goal.split()
    ok = value >= float(target) if sign == "≥" else value < float(target)
    ref = f"{baseline[0]} {baseline[1]:,.1f} {unit}; " if baseline else ""
    ratio = value / (baseline[1] if baseline else float(target))
    return Row(metric, f"{value:,.1f} {unit}", f"{ref}target {sign} {float(target):,g} {unit}", ratio, ok)


def pct(values: list[float], p: float) -> float:
    """The nearest-rank p-th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


_VERDICT = {True: "pass", False: "**FAIL**", None: ""}


def markdown(rows: list[Row]) -> str:
    """The rows as a markdown table."""
    lines = ["| metric | measured | baseline / target | ratio | result |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.metric} | {r.measured} | {r.baseline} | {ratio} | {_VERDICT[r.ok]} |")
    return "\n".join(lines)


def _processes() -> dict[int, tuple[int, int]]:
    """Each live process's parent and the CPU ticks it and its reaped children used."""
    procs = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        procs[int(stat.parent.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    return procs


def _tree_ticks(root: int) -> int:
    """CPU ticks the process `root` and its live descendants used, their reaped children included."""
    procs = _processes()

    def under(pid: int) -> bool:
        while pid > 1 and pid != root:
            pid = procs.get(pid, (1, 0))[0]
        return pid == root

    return sum(ticks for pid, (_, ticks) in procs.items() if under(pid))


def cpu_seconds(*roots: int) -> float:
    """CPU seconds used so far by these processes and their descendants."""
    return sum(_tree_ticks(r) for r in roots) / os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> int:
    """CPU ticks the whole machine spent busy (user, nice, system, irq, softirq)."""
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return sum(int(cpu[i]) for i in (1, 2, 3, 6, 7))


class OtherLoad:
    """How many cores the rest of the machine kept busy since the start: its busy time less this tree's."""

    def __init__(self) -> None:
        self.start = (time.monotonic(), _busy_ticks(), _tree_ticks(os.getpid()))

    def cores(self) -> float:
        t0, busy0, mine0 = self.start
        elapsed = max(time.monotonic() - t0, 1e-3)
        other = (_busy_ticks() - busy0) - (_tree_ticks(os.getpid()) - mine0)
        return max(0.0, other / os.sysconf("SC_CLK_TCK") / elapsed)


def render_section(
    command: str, table: str, other_cores: float, *, heading: str = HEADING, notes: str = NOTES
) -> str:
    """The markdown section: how it was run, where, when, at which commit, then the table and notes."""
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = [f"Command: `{command}`", f"Machine: {machine()}", f"Date: {date}", f"Commit: {commit()}"]
    facts.append(f"Other processes on the machine during the run: {other_cores:.2f} cores busy on average")
    return "\n".join([heading, "", "  \n".join(facts), "", table, "", notes, ""])
