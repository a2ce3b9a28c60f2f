"""The tests' Stack: its services see only the settings it gives them, and die with a killed test process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import REPO
from devtools.stack.deployment import Stack
from tests.devtools.stack.processes import Proc, services_of, wait_all_gone

# A test process: the stack of an integration test, up until the process is SIGKILLed.
A_TEST = """
import sys, time
from pathlib import Path
from devtools.stack.deployment import Stack
stack = Stack(Path(sys.argv[1]))
stack.start_redis()
stack.start_api()
stack.start_worker(env={"LLMB_IMAGE_PIPELINE": "tests.fixtures.pipelines:ScriptedImagePipeline"})
print("ready", flush=True)
time.sleep(600)
"""


def test_a_test_stack_leaves_the_developer_s_settings_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LLMB_LOG_LEVEL", "DEBUG")
    isolated = Stack(tmp_path, env={"LLMB_QUEUES": "chat"}).child_env()
    assert "LLMB_LOG_LEVEL" not in isolated
    assert isolated["LLMB_QUEUES"] == "chat"
    inherited = Stack(tmp_path, inherit_env=True).child_env()
    assert inherited["LLMB_LOG_LEVEL"] == "DEBUG"


def test_a_killed_test_process_takes_its_services_with_it(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", A_TEST, str(tmp_path)]
    services: list[Proc] = []
    with subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, start_new_session=True) as test:
        try:
            assert test.stdout is not None
            assert test.stdout.readline() == b"ready\n"
            services = services_of(test.pid)
            assert len({p.pgrp for p in services}) == 3
            test.kill()
            test.wait()
            wait_all_gone(services, timeout=60)
        finally:
            for pgrp in {test.pid, *(p.pgrp for p in services)}:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgrp, signal.SIGKILL)
