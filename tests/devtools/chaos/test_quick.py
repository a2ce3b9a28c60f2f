"""`python -m devtools.chaos --quick`: the real stack under one fault of each kind keeps its rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO

QUICK_S = 360  # about 2.5 minutes on a loaded 2-core machine; the rest is headroom
# The rules asserted here: every one the soak checks, except the two that catch a rare stall of a
# worker after a Redis restart (docs/CHAOS.md, findings): now bounded by the broker's 3 s socket
# timeout, at those rules' 3 s limit, so they stay in the full soak only.
ASSERTED = (
    "lost jobs",
    "duplicate terminal transitions",
    "orphaned or foreign objects",
    "listed objects missing or not whole",
    "records disagreeing with their events",
    "attempts grown across a transient fault",
    "outcomes no fault explains",
    "whole-worker kill → running again",
    "backlog at each whole-worker kill",
    "Redis back → a job running",
    "CLIENT KILL → a job running",
    "schedule executed",
    "batch lines each once in its output or error file",
    "usage totals = the jobs' usage summed",
)


@pytest.mark.slow
@pytest.mark.timeout(QUICK_S + 60)
def test_the_quick_soak_loses_nothing_and_recovers_in_time(tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    cmd = [sys.executable, "-m", "devtools.chaos", "--quick", "--root", str(tmp_path / "run")]
    done = subprocess.run(
        [*cmd, "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=QUICK_S, check=False
    )
    print(done.stdout[-20_000:], done.stderr[-5_000:])
    assert out.exists(), "the soak ended before its audit"
    summary = json.loads(out.read_text())
    rules = {rule["name"]: rule for rule in summary["rules"]}
    broken = {name: rules[name]["value"] for name in ASSERTED if not rules[name]["ok"]}
    assert not broken, f"rules broken: {broken}; findings: {summary['findings']}"
    assert {f["kind"] for f in summary["faults"]} == {
        "pool SIGKILL",
        "worker SIGKILL",
        "SIGTERM scale-in",
        "Redis restart",
        "S3 outage",
        "CLIENT KILL",
    }
    batch = summary["batch"]
    assert batch["status"] == "completed", batch
    answered = batch["output_ids"] + batch["error_ids"]
    assert len(answered) == len(set(answered)) == batch["lines_sent"] > 40, batch  # each line once
    assert "invalid-size" in batch["error_ids"], batch
    assert batch["request_counts"] == {
        "total": batch["lines_sent"],
        "completed": len(batch["output_ids"]),
        "failed": len(batch["error_ids"]),
    }
    usage = summary["usage"]
    assert not usage["violations"], usage
    summed, reported = usage["summed"]["all"], usage["reported"]["all"]
    assert summed["jobs"] == reported["jobs"] > 0, usage
    assert summed["images"] == reported["images"] > 0, usage
    assert summed["prompt_tokens"] == reported["prompt_tokens"] > 0, usage  # the embed jobs' tokens
    assert abs(summed["device_s"] - reported["device_s"]) <= 1e-6 * reported["device_s"], usage
