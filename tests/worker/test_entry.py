"""`python -m worker`: CUDA is looked for through NVML in the main process, so its pool can use CUDA."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from devtools import REPO

# Runs worker/__main__.py with worker.main replaced by a stand-in that reports what it found.
PROBE = """
import json, os, runpy, sys, types
stand_in = types.ModuleType("worker.main")
def main():
    check = os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK")
    print(json.dumps({"check": check, "torch": "torch" in sys.modules}))
stand_in.main = main
sys.modules["worker.main"] = stand_in
runpy.run_module("worker", run_name="__main__")
"""


def test_the_worker_entry_asks_for_the_nvml_cuda_check_before_torch_loads() -> None:
    # On a GPU host a CUDA lookup in the main process without it left every pool process unable to
    # start CUDA ("Cannot re-initialize CUDA in forked subprocess"): the worker never became ready.
    env = {k: v for k, v in os.environ.items() if k != "PYTORCH_NVML_BASED_CUDA_CHECK"}
    command = [sys.executable, "-c", PROBE]
    done = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"check": "1", "torch": False}
