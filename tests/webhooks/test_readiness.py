"""The webhook sender's readiness is tied to its running process, as the worker's is: the ready file it
writes once Redis answered names its pid and start time, so the file a container restarted in its pod
finds in /run/llmb from its previous run fails the probe until the new process reached Redis. The
restart inside one pod is simulated: one ready file, the first sender killed, a second one started."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from devtools import REPO
from devtools.stack.deployment import WEBHOOKS_READY_S, Stack
from devtools.stack.process import wait_until
from shared.readiness import probe_command


def probe(ready: Path) -> bool:
    """The Kubernetes readinessProbe of the sender, run as the kubelet runs it (sh -c, in the container)."""
    documents = yaml.safe_load_all((REPO / "k8s" / "base" / "webhooks.yaml").read_text())
    [manifest] = [d for d in documents if d and d["kind"] == "Deployment"]
    command = manifest["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]
    assert command == ["sh", "-c", probe_command("/run/llmb/ready")]
    local = [word.replace("/run/llmb/ready", str(ready)) for word in command]
    return subprocess.run(local, capture_output=True, check=False, timeout=10).returncode == 0


def test_a_ready_file_from_the_senders_previous_run_does_not_pass_the_probe(tmp_path: Path) -> None:
    ready = tmp_path / "run" / "llmb" / "ready"
    stack = Stack(tmp_path / "stack")
    in_the_pod = {"LLMB_READY_FILE": str(ready)}  # both runs share the pod's volume
    try:
        stack.start_redis()
        first = stack.start_webhooks(name="first", env=in_the_pod, wait=False)
        wait_until(lambda: probe(ready), timeout=WEBHOOKS_READY_S, what="the first sender", proc=first.proc)
        assert ready.read_text().split()[0] == str(first.pid)

        first.proc.kill()  # the container dies; its volume, and the file in it, stay
        first.proc.wait()
        port = stack.stop_redis()  # the new run cannot reach Redis yet, so it is not ready
        assert ready.exists()
        assert not probe(ready)

        second = stack.start_webhooks(name="second", env=in_the_pod, wait=False)
        assert second.proc.poll() is None
        assert not probe(ready)  # still the first run's file, while the second one waits for Redis
        stack.start_redis(port=port)
        wait_until(lambda: probe(ready), timeout=WEBHOOKS_READY_S, what="the second sender", proc=second.proc)
        assert ready.read_text().split()[0] == str(second.pid)
    finally:
        stack.stop()
