"""`python -m api.batches` writes each log line once, in the format every other process uses."""

from __future__ import annotations

from pathlib import Path

from devtools.stack.deployment import Stack


def test_the_batch_runner_logs_each_line_once(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    try:
        stack.start_redis()
        runner = stack.start_batches()
        runner.stop()
        lines = runner.log().splitlines()
    finally:
        stack.stop()

    running = [line for line in lines if line.endswith("running batches")]
    stopped = [line for line in lines if line.endswith("stopped")]
    assert (len(running), len(stopped)) == (1, 1), lines
    assert running[0].endswith("INFO [MainProcess] batches: running batches")
