"""The scaling thresholds the simulation uses, read from rendered Kubernetes manifests with their sources."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devtools.scaling.replicas import Behavior
from shared.settings import Settings

# KEDA v2 defaults for ScaledObject fields a manifest may leave out.
KEDA_DEFAULTS = {"pollingInterval": 30, "cooldownPeriod": 300, "minReplicaCount": 0, "maxReplicaCount": 100}
K8S_GRACE_DEFAULT_S = 30


class ManifestError(RuntimeError):
    """The manifests could not be rendered or lack an object or field the simulation needs."""


@dataclass(frozen=True)
class WorkerScaling:
    """One worker queue's ScaledObject, Deployment and job settings, as the simulation needs them."""

    target: float
    polling_s: int = 30
    cooldown_s: int = 300
    min_replicas: int = 0
    max_replicas: int = 100
    activation: float = 0.0
    metric_type: str = "AverageValue"
    behavior: Behavior = field(default_factory=Behavior)
    grace_s: int = K8S_GRACE_DEFAULT_S
    job_limit_s: int = 600
    lease_ttl_s: int = 30
    max_attempts: int = 3

    @property
    def hard_limit_s(self) -> int:
        """The longest a job can run: Celery kills the pool child at LLMB_JOB_TIME_LIMIT_S + 60."""
        return Settings(job_time_limit_s=self.job_limit_s).hard_time_limit_s


@dataclass(frozen=True)
class ApiScaling:
    """The API's HPA and the CPU request its utilization is measured against."""

    min_replicas: int = 1
    max_replicas: int = 10
    target_pct: float = 70.0
    cpu_request: float = 0.25
    cpu_limit: float | None = None
    behavior: Behavior = field(default_factory=Behavior)


@dataclass(frozen=True)
class Manifests:
    """What the simulation takes from one rendered overlay: values, where each came from, and doubts."""

    worker: WorkerScaling
    api: ApiScaling
    sources: dict[str, str]
    warnings: list[str]


def render(overlay: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize <overlay>` renders (or `kustomize build` where only that exists)."""
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(overlay)]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", str(overlay)]
    else:
        raise ManifestError("neither kubectl nor kustomize is on PATH: cannot render the manifests")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise ManifestError(f"`{' '.join(cmd)}` failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)


def parse(text: str) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a rendered stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The object of that kind named `name` (or ending in it, for overlays that add a name prefix)."""
    matches = [o for o in objs if o.get("kind") == kind and _named(o, name)]
    exact = [o for o in matches if o["metadata"]["name"] == name]
    if not (exact or matches):
        raise ManifestError(f"the rendered manifests have no {kind} named {name!r}")
    return (exact or matches)[0]


def _named(obj: dict[str, Any], name: str) -> bool:
    """Whether an object's name is `name` or ends with `-name`."""
    actual = str(obj.get("metadata", {}).get("name", ""))
    return actual == name or actual.endswith(f"-{name}")


def dig(obj: Any, path: str) -> Any:
    """The value at a dotted path, or None where any step is absent."""
    for key in path.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def cpu_cores(quantity: str | float | int) -> float:
    """A Kubernetes CPU quantity ("250m", "1", 0.5) in cores."""
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def first_container(deployment: dict[str, Any]) -> dict[str, Any]:
    """The Deployment's first (main) container."""
    containers = dig(deployment, "spec.template.spec.containers") or []
    if not containers:
        raise ManifestError(f"Deployment {deployment['metadata']['name']} has no containers")
    return containers[0]


def llmb_setting(objs: list[dict[str, Any]], deployment: dict[str, Any], env: str) -> tuple[str, str] | None:
    """An LLMB_ variable's value for a Deployment's main container and where it is set: env, then envFrom."""
    container = first_container(deployment)
    name = deployment["metadata"]["name"]
    for item in container.get("env") or []:
        if item.get("name") == env and "value" in item:
            return str(item["value"]), f"Deployment {name} env {env}"
    for ref in container.get("envFrom") or []:
        cm_name = dig(ref, "configMapRef.name")
        if cm_name is None:
            continue
        data = find(objs, "ConfigMap", cm_name).get("data") or {}
        if env in data:
            return str(data[env]), f"ConfigMap {cm_name} {env}"
    return None
