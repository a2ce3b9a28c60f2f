"""`python -m devtools.bench.queueing` at tiny sizes on the real stack: every scenario runs and reports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO
from devtools.bench.queueing.report import HEADING

TINY = [
    "--lines",
    "40",
    "--batch-lines",
    "30",
    "--jobs",
    "20",
    "--flood",
    "30",
    "--interactive",
    "5",
    "--rounds",
    "1",
]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_every_scenario_runs_and_writes_its_rows(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n## API (make bench)\n\nkept as it is\n")
    cmd = [sys.executable, "-m", "devtools.bench.queueing", *TINY, "--rate", "50", "--out", str(out)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=170, check=False)
    assert done.returncode == 0, done.stderr[-5000:]
    text = out.read_text()
    assert "## API (make bench)\n\nkept as it is\n" in text  # the other section stays
    section = text[text.index(HEADING) :]
    assert "Command: `python -m devtools.bench.queueing --lines 40" in section
    rows = {line.split(" | ")[0].strip("| "): line for line in section.splitlines() if line.startswith("| ")}
    assert re.search(r"\| [\d,]+ lines/s \(40 in [\d.]+ s\)", rows[_key(rows, "40-line chat batch")])
    assert "| 40 of 40 |" in rows["its lines waiting in the chat queue after it"]
    assert re.search(r"\| \+[\d.]+ MiB \|", rows["API worker peak RSS growth over the upload"])
    assert re.search(r"\| [\d,.]+ jobs/s \([\d,]+\) \|", rows[_key(rows, "batch throughput, 20 lines")])
    assert re.search(r"\| [\d,.]+ / [\d,.]+ jobs/s \|", rows[_key(rows, "end to end, the worker running")])
    for label in ("interactive queue wait with a 30-line batch waiting, p", "tenant B queue wait with"):
        loaded = [line for key, line in rows.items() if key.startswith(label)]
        assert loaded
        assert all(re.search(r"\| [\d,.]+ ms \| idle queue p\d+ [\d,.]+ ms", line) for line in loaded)
    assert "| 30 of 30 in" in rows["tenant A's flood: POST /v1/jobs answered 202"]
    assert rows[_key(rows, "interactive queue wait p50 / p99, idle queue (1 × 5 jobs at 50/s)")]
    assert re.search(r"\| \d of 5 \|", rows[_key(rows, "interactive jobs claimed at the interactive door")])


def _key(rows: dict[str, str], start: str) -> str:
    return next(key for key in rows if key.startswith(start))
