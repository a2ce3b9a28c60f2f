"""Rendering the kustomize overlays and reading what the rendered objects say, without a cluster."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from shared.settings import Limits, Settings

REPO = Path(__file__).resolve().parents[2]
# Every kustomization `make deploy` or an operator may apply; the base must render on its own too.
KUSTOMIZATIONS = {
    "base": REPO / "k8s" / "base",
    "minikube": REPO / "k8s" / "overlays" / "minikube",
    "gpu": REPO / "k8s" / "overlays" / "gpu",
    "sentinel": REPO / "k8s" / "overlays" / "sentinel",
}
KEDA_SCHEMAS = REPO.parent / "shared" / "schemas" / "keda"
COMPOSE = REPO / "docker" / "compose.yaml"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
FROM_SECRET = "<from a Secret>"

Obj = dict[str, Any]


class KubectlMissingError(RuntimeError):
    """kubectl is not on PATH, so the manifests cannot be rendered."""


def render(path: Path) -> list[Obj]:
    """The objects `kubectl kustomize path` renders."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise KubectlMissingError(
            "kubectl is not installed: the k8s tests render the overlays with `kubectl kustomize`; "
            "install kubectl (https://kubernetes.io/docs/tasks/tools/) and run the tests again"
        )
    out = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False, timeout=60
    )
    if out.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed:\n{out.stderr}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def ref(obj: Obj) -> str:
    """The object's `Kind/name`, for problem messages."""
    return f"{obj['kind']}/{obj['metadata']['name']}"


def find(objects: list[Obj], kind: str, name: str | None = None) -> list[Obj]:
    """The objects of a kind, optionally with one name."""
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects: list[Obj], kind: str, name: str) -> Obj:
    """The single object of this kind and name."""
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: Obj) -> Obj:
    """The pod template's spec of a workload."""
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def workloads(objects: list[Obj]) -> Iterator[Obj]:
    """Every object that runs pods."""
    return (o for o in objects if o["kind"] in WORKLOAD_KINDS)


def containers(workload: Obj) -> list[Obj]:
    """Init and regular containers of a workload's pods."""
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def component(workload: Obj) -> str:
    """The pods' `app.kubernetes.io/component` label."""
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    return str(labels.get("app.kubernetes.io/component", ""))


def container_env(objects: list[Obj], container: Obj) -> dict[str, str]:
    """The environment a container starts with: ConfigMaps from envFrom, then env (Secrets as a marker)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            config = one(objects, "ConfigMap", source["configMapRef"]["name"])
            prefix = source.get("prefix", "")
            env.update({prefix + k: str(v) for k, v in config.get("data", {}).items()})
    for var in container.get("env", []):
        env[var["name"]] = str(var["value"]) if "value" in var else FROM_SECRET
    return env


def env_names(objects: list[Obj]) -> Iterator[tuple[str, str]]:
    """(where, name) for every variable a manifest sets: ConfigMap keys and container env entries."""
    for config in find(objects, "ConfigMap"):
        for key in config.get("data", {}):
            yield ref(config), key
    for workload in workloads(objects):
        for c in containers(workload):
            for var in c.get("env", []):
                yield f"{ref(workload)} container {c['name']}", var["name"]


def known_settings() -> set[str]:
    """Every LLMB_ variable the code reads: `LLMB_<FIELD>` and `LLMB_LIMITS__<FIELD>`."""
    names = {f"LLMB_{field.upper()}" for field in Settings.model_fields if field != "limits"}
    return names | {f"LLMB_LIMITS__{field.upper()}" for field in Limits.model_fields}


def load_compose() -> Obj:
    """docker/compose.yaml as data (YAML merge keys resolved)."""
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))
