"""`make status` and `make undeploy` without a cluster: one sentence saying what is missing, none of
kubectl's raw connection errors (kubectl and minikube stand-ins that fail as the real ones do)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.k8s.manifests import REPO

RAW = (
    'E1205 memcache.go:265] "Unhandled Error" '
    'err="couldn\'t get current server API group list: connection refused"'
)


def stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def make(target: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}
    cmd = ["make", "--no-print-directory", target]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("target", "code"), [("status", 2), ("undeploy", 0)])
def test_without_minikube_running_it_says_so_once(tmp_path: Path, target: str, code: int) -> None:
    stand_in(tmp_path, "kubectl", f"echo '{RAW}' >&2; exit 1")
    stand_in(tmp_path, "minikube", "echo 'host: Stopped'; exit 7")
    done = make(target, tmp_path)
    assert done.returncode == code  # make's 2 carries the script's 1; undeploy has nothing to remove
    assert "minikube is not running, so nothing is deployed: make deploy starts it" in done.stderr
    assert "memcache" not in done.stdout + done.stderr


def test_a_cluster_without_the_deployment_says_nothing_is_deployed(tmp_path: Path) -> None:
    stand_in(tmp_path, "kubectl", 'case "$*" in *readyz*) exit 0;; *) echo "NotFound" >&2; exit 1;; esac')
    stand_in(tmp_path, "minikube", "exit 0")
    done = make("status", tmp_path)
    assert done.returncode == 2
    assert "holds no namespace llmb: nothing is deployed (make deploy)" in done.stderr
    assert "NotFound" not in done.stderr


def test_without_minikube_installed_it_says_where_to_get_it(tmp_path: Path) -> None:
    stand_in(tmp_path, "kubectl", f"echo '{RAW}' >&2; exit 1")
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    if any((Path(d) / "minikube").exists() for d in ("/usr/bin", "/bin")):
        pytest.skip("minikube is installed here")
    cmd = ["bash", str(REPO / "deploy" / "minikube.sh"), "status"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "minikube, which make deploy runs it on, is not installed" in done.stderr
    assert "memcache" not in done.stderr
