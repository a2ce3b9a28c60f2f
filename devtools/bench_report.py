"""`make bench`'s table: judged rows, the markdown, and its section of docs/BENCHMARKS.md."""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devtools.stack import REPO

HEADING = "## API (make bench)"
INTRO = """# Benchmarks

Run `make bench` (`python -m devtools.bench_api --out docs/BENCHMARKS.md`) to measure and rewrite the
section below; `--quick` is a smoke test whose figures are not worth quoting. The figures come from a
shared, noisy 2-core machine: absolute numbers move by tens of percent between runs, so compare the
ratios against the baselines measured in the same run, not raw numbers across runs.

"""
NOTES = """Ratio: measured ÷ the same-run baseline where there is one, else ÷ the target; pass/fail is always
against the target. Every API runs under `api/gunicorn_conf.py` (gevent, `worker_connections` 1000), one
worker unless stated, with default settings; the bare app runs under the same file. hey is pinned to one
core (`-cpus 1`). /health latencies are the median of 3 hey runs (each run's p99 in brackets). Job timings
use the job record's epoch floats in Redis, written on the same host as the client clock. A long-wait
(`GET /v1/jobs/{id}?wait=60` on a queued job) is in flight from its request's last byte sent until its
answer, counted by the client; the API's event hub subscribing to each one is counted in Redis (one XADD
to the hub's wake stream per subscription, from `INFO commandstats`). The Redis clients are those in
`CLIENT LIST` while the waits are held, the benchmark's own connection left out. The waits end when the
benchmark cancels their jobs (`POST /v1/jobs/{id}/cancel`, one after another)."""


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


def machine() -> str:
    """This host's CPU model, core count and RAM."""
    info = Path("/proc/cpuinfo").read_text()
    cpu = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
    mem = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    ram = f"{int(mem.group(1)) / 2**20:.1f} GiB RAM" if mem else "RAM unknown"
    return f"{cpu.group(1) if cpu else 'unknown CPU'}, {os.cpu_count()} cores, {ram}"


def commit() -> str:
    """The checked-out commit, marked when the tree has uncommitted changes."""
    head = _git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted changes" if _git("status", "--porcelain") else head


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *args], check=False, capture_output=True, text=True)
    return done.stdout.strip()


def render_section(command: str, table: str) -> str:
    """The markdown section: how it was run, where, when, at which commit, then the table."""
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = [f"Command: `{command}`", f"Machine: {machine()}", f"Date: {date}", f"Commit: {commit()}"]
    return "\n".join([HEADING, "", "  \n".join(facts), "", table, "", NOTES, ""])


def write_section(path: Path, section: str) -> None:
    """Replace the benchmark's section of `path`, creating the file with its intro when missing."""
    text = path.read_text() if path.exists() else INTRO
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
