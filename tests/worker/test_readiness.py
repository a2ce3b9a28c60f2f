"""Worker readiness is tied to the running process: a ready file left in the pod's /run/llmb volume by
the container's previous run fails the readiness probe until the new process has loaded its models.
The restart inside one pod is simulated: the same folder, one process gone and a new one started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from devtools import REPO
from devtools.stack.deployment import Stack
from shared.readiness import PROBE, is_ready
from tests.integration.conftest import SCRIPTED

WORKERS = ("worker-image", "worker-chat", "worker-embed")
# A worker stand-in: on each line from stdin it marks itself ready, as warm_up does once loaded.
PROCESS = (
    "import os, sys; from pathlib import Path; from shared.readiness import mark_ready\n"
    "for _ in sys.stdin: mark_ready(Path(sys.argv[1]), os.getpid()); print('marked', flush=True)"
)


def probe(ready: Path) -> bool:
    """The manifests' readiness probe, run as the kubelet runs it (sh -c, in the container)."""
    return subprocess.run(["sh", "-c", PROBE.replace("READY_FILE", str(ready))], check=False).returncode == 0


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()
        proc.stdin and proc.stdin.close()  # type: ignore[func-returns-value]
        proc.stdout and proc.stdout.close()  # type: ignore[func-returns-value]


def start(ready: Path, processes: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PROCESS, str(ready)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    processes.append(proc)
    return proc


def loaded(proc: subprocess.Popen[str]) -> None:
    """Tell the stand-in its models are loaded, and wait until it wrote the ready file."""
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write("loaded\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "marked\n"


def test_a_ready_file_from_the_previous_run_does_not_pass_the_probe(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    ready = tmp_path / "run" / "llmb" / "ready"
    first = start(ready, processes)
    assert not probe(ready)  # loading
    loaded(first)
    assert probe(ready)
    assert is_ready(ready)

    first.kill()  # the container dies; its volume, and the file in it, stay
    first.wait()
    assert ready.exists()
    assert not probe(ready)
    second = start(ready, processes)  # the restarted container, loading its models again
    assert not probe(ready)
    assert not is_ready(ready)
    loaded(second)
    assert probe(ready)


def compose_healthcheck(service: str, run: Path) -> bool:
    """docker/compose.yaml's healthcheck of `service` as Docker runs it (after compose turns $$ into $),
    on the files under `run` instead of /run/llmb."""
    compose = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
    kind, shell = compose["services"][service]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    local = shell.replace("$$", "$").replace("/run/llmb/", f"{run}/")
    return subprocess.run(["sh", "-c", local], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("service", ["worker", "webhooks"])
def test_the_compose_healthchecks_probe_the_process_not_the_file(
    service: str, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    run = tmp_path / "run" / "llmb"
    first = start(run / "ready", processes)
    loaded(first)
    (run / "alive").touch()
    assert compose_healthcheck(service, run)

    first.kill()  # a restart of the container that kept its /run/llmb (the file stays)
    first.wait()
    (run / "alive").touch()  # even with a fresh alive file
    assert not compose_healthcheck(service, run)
    second = start(run / "ready", processes)
    assert not compose_healthcheck(service, run)
    loaded(second)
    assert compose_healthcheck(service, run)


@pytest.mark.parametrize("name", WORKERS)
def test_the_worker_manifests_probe_the_process_not_the_file(name: str) -> None:
    documents = yaml.safe_load_all((REPO / "k8s" / "base" / f"{name}.yaml").read_text())
    [manifest] = [d for d in documents if d and d["kind"] == "Deployment"]
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    ready = {e["name"]: e.get("value") for e in container["env"]}["LLMB_READY_FILE"]
    assert container["readinessProbe"]["exec"]["command"] == ["sh", "-c", PROBE.replace("READY_FILE", ready)]


def test_a_real_worker_names_its_main_process_in_the_ready_file(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    try:
        stack.start_redis()
        worker = stack.start_worker(queues="image", env=SCRIPTED)
        ready = Path(worker.extra["ready_file"])
        assert ready.read_text().split()[0] == str(worker.pid)
        assert probe(ready)
        worker.stop()
        deadline = time.monotonic() + 30
        while ready.exists() and time.monotonic() < deadline and probe(ready):
            time.sleep(0.05)
        assert not probe(ready)  # whether the worker removed it on the way out or left it behind
    finally:
        stack.stop()
