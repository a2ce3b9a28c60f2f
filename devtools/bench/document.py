"""docs/BENCHMARKS.md: replacing one benchmark's section, and the machine and commit each section names."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from devtools import REPO

INTRO = """# Benchmarks

Run `make bench` (`python -m devtools.bench.api --out docs/BENCHMARKS.md`) to measure and rewrite the
section below; `--quick` is a smoke test whose figures are not worth quoting. The figures come from a
shared, noisy 2-core machine: absolute numbers move by tens of percent between runs, so compare the
ratios against the baselines measured in the same run, not raw numbers across runs.
`make bench` then runs the queueing benchmark of issues 21 and 22 (`make bench-queueing` runs it alone:
`python -m devtools.bench.queueing --out docs/BENCHMARKS.md`): a 50,000-line chat batch uploaded and
enqueued (lines/s, peak RSS growth of the API worker and of the batch runner), interactive jobs' queue
wait with a 10,000-line batch waiting and the batch's throughput against the same jobs posted one by
one (2,000), and one tenant's queue wait while another floods the queue (10,000 jobs), each against an
idle queue in the same run (10 to 20 minutes). `--lines`, `--batch-lines`, `--jobs`, `--flood`,
`--interactive` and `--rounds` set smaller sizes to check the benchmark itself; such figures are not
worth quoting.

"""


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


def write_section(path: Path, section: str, heading: str) -> None:
    """Replace the section under `heading` in `path` (others untouched), creating the file when missing."""
    text = path.read_text() if path.exists() else INTRO
    start = text.find(heading)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
