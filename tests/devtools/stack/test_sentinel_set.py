"""`python -m devtools.stack.sentinel`: the Sentinel set to try locally, and the line that uses it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from devtools import REPO
from devtools.stack.sentinel import ask


def test_it_prints_the_make_run_line_for_a_working_set_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "devtools.stack.sentinel", "--root", str(tmp_path)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO) as proc:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        (run_line,) = [line.strip() for line in lines if line.strip().endswith("make run")]
        sentinels = run_line.split()[0].removeprefix("LLMB_REDIS_SENTINELS=").split(",")
        assert len(sentinels) == 3
        assert "LLMB_REDIS_MASTER=llmb" in run_line
        port = int(sentinels[0].rpartition(":")[2])
        master = ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "llmb")
        assert isinstance(master, list)
        assert f"127.0.0.1:{int(master[1])}" in "".join(lines)  # the master it names is the one it started
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
