"""`python -m devtools.bench.models.mixed` at a tiny size on the real stack: both loads run and report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO
from devtools.bench.models.mixed.report import HEADING


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_both_loads_run_and_write_their_rows(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n## API (make bench)\n\nkept as it is\n")
    args = ["--variants", "now", "--jobs", "6", "--rate", "50", "--rounds", "1", "--out", str(out)]
    cmd = [sys.executable, "-m", "devtools.bench.models.mixed", *args]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=290, check=False)
    assert done.returncode == 0, done.stderr[-5000:]
    text = out.read_text()
    assert "## API (make bench)\n\nkept as it is\n" in text  # the other section stays
    assert HEADING in text
    assert "| now | steady 50 jobs/s |" in text
    assert "| now | all at once |" in text
    assert text.count("6 of 6 |") == 2  # every job of both loads succeeded
    assert "Revisions: now = " in text
