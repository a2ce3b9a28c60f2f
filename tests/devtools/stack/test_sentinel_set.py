"""`python -m devtools.stack.sentinel`: the Sentinel set to try locally, and the line that uses it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from devtools import REPO
from devtools.stack.process import Service
from devtools.stack.sentinel import SentinelSet, ask
from shared import redis_keys
from tests.devtools.stack.conftest import MakeRun

IMAGE = {"type": "image", "input": {"prompt": "ok", "steps": 1, "width": 64, "height": 64}}


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


def test_make_run_with_the_printed_settings_keeps_its_jobs_on_the_sentinel_master(
    make_run: Callable[..., MakeRun], tmp_path: Path
) -> None:
    services: list[Service] = []
    try:
        redis_set = SentinelSet(tmp_path / "set", services=services).start()
        run = make_run(settings=redis_set.env)
        run.ready()
        with httpx.Client(base_url=f"http://127.0.0.1:{run.port}", timeout=60) as http:
            job = http.post("/v1/jobs", json=IMAGE).json()
            done = http.get(f"/v1/jobs/{job['id']}", params={"wait": 60}).json()
        assert done["status"] == "succeeded"
        assert ask(redis_set.master_port(), "EXISTS", redis_keys.job(job["id"])) == 1
        found = re.search(r"redis-server on 127\.0\.0\.1:(\d+)", run.output)
        assert found is not None
        embedded = int(found.group(1))
        assert ask(embedded, "EXISTS", redis_keys.job(job["id"])) == 0  # make run's own Redis stays unused
        run.signal(signal.SIGTERM)
        assert run.exited() == 0
    finally:
        while services:
            services.pop().stop()
