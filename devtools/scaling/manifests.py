"""Reading a worker queue's and the API's scaling parameters out of rendered objects, noting each source."""

from __future__ import annotations

from typing import Any

from devtools.scaling.params import (
    K8S_GRACE_DEFAULT_S,
    KEDA_DEFAULTS,
    ApiScaling,
    ManifestError,
    Manifests,
    WorkerScaling,
    cpu_cores,
    dig,
    find,
    first_container,
    llmb_setting,
)
from devtools.scaling.replicas import Behavior
from shared.settings import Settings

API_HPA = "llmb-api"
GRACE = "terminationGracePeriodSeconds"


class _Sources:
    """Takes values out of objects and remembers, per parameter, which object and field gave it."""

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}
        self.warnings: list[str] = []

    def take(self, label: str, at: tuple[str, dict[str, Any]], path: str, default: tuple[Any, str]) -> Any:
        """The value at `path` in the object `at` names, else the (value, reason) default; records which."""
        value = dig(at[1], path)
        if value is None:
            self.sources[label] = f"{default[1]} (`{path}` not set in {at[0]})"
            return default[0]
        self.sources[label] = f"{at[0]} `{path}`"
        return value

    def setting(self, objs: list[dict[str, Any]], deployment: dict[str, Any], env: str) -> int:
        """An integer LLMB_ setting of a Deployment, else the settings default, recording its source."""
        found = llmb_setting(objs, deployment, env)
        if found is None:
            field = env.removeprefix("LLMB_").lower()
            self.sources[env] = f"shared/settings.py default ({env} not set for the worker)"
            return int(Settings.model_fields[field].default)
        self.sources[env] = found[1]
        return int(found[0])


def metrics_trigger(scaled: dict[str, Any], queue: str) -> dict[str, Any]:
    """The ScaledObject's metrics-api trigger, which must read `queues.<queue>.load`."""
    triggers = [t for t in dig(scaled, "spec.triggers") or [] if t.get("type") == "metrics-api"]
    if not triggers:
        raise ManifestError(f"ScaledObject {scaled['metadata']['name']} has no metrics-api trigger")
    return triggers[0]


def trigger_target(trigger: tuple[str, dict[str, Any]], queue: str, src: _Sources) -> float:
    """The trigger's targetValue, noting a trigger that reads something other than the queue's load."""
    location = dig(trigger[1], "metadata.valueLocation")
    if location != f"queues.{queue}.load":
        src.warnings.append(f"the {queue} trigger reads `{location}`, not `queues.{queue}.load`")
    target = src.take("targetValue", trigger, "metadata.targetValue", (None, "required"))
    if target is None:
        raise ManifestError(f"the {queue} metrics-api trigger has no targetValue")
    return float(target)


def worker_scaling(objs: list[dict[str, Any]], queue: str, src: _Sources) -> WorkerScaling:
    """A queue's worker scaling from its ScaledObject, its Deployment and the worker's LLMB_ settings."""
    scaled = find(objs, "ScaledObject", f"llmb-worker-{queue}")
    so = (f"ScaledObject {scaled['metadata']['name']}", scaled)
    trigger = (f"{so[0]} metrics-api trigger", metrics_trigger(scaled, queue))
    target = trigger_target(trigger, queue, src)
    deployment = find(objs, "Deployment", dig(scaled, "spec.scaleTargetRef.name") or f"llmb-worker-{queue}")
    dep = (f"Deployment {deployment['metadata']['name']}", deployment)
    behavior_path = "spec.advanced.horizontalPodAutoscalerConfig.behavior"

    def keda(label: str, at: tuple[str, dict[str, Any]], path: str, default: float | str) -> Any:
        return src.take(label, at, path, (default, "KEDA default"))

    return WorkerScaling(
        target=target,
        polling_s=int(keda("pollingInterval", so, "spec.pollingInterval", KEDA_DEFAULTS["pollingInterval"])),
        cooldown_s=int(keda("cooldownPeriod", so, "spec.cooldownPeriod", KEDA_DEFAULTS["cooldownPeriod"])),
        min_replicas=int(keda("minReplicaCount", so, "spec.minReplicaCount", 0)),
        max_replicas=int(keda("maxReplicaCount", so, "spec.maxReplicaCount", 100)),
        activation=float(keda("activationTargetValue", trigger, "metadata.activationTargetValue", 0)),
        metric_type=str(keda("metricType", trigger, "metricType", "AverageValue")),
        behavior=Behavior.from_spec(src.take("behavior", so, behavior_path, (None, "HPA defaults"))),
        grace_s=int(src.take("terminationGracePeriodSeconds", dep, f"spec.template.spec.{GRACE}",
                             (K8S_GRACE_DEFAULT_S, "Kubernetes default"))),
        job_limit_s=src.setting(objs, deployment, "LLMB_JOB_TIME_LIMIT_S"),
        lease_ttl_s=src.setting(objs, deployment, "LLMB_LEASE_TTL_S"),
        max_attempts=src.setting(objs, deployment, "LLMB_MAX_ATTEMPTS"),
    )  # fmt: skip


def cpu_target(hpa: dict[str, Any]) -> dict[str, Any]:
    """The HPA's CPU Resource metric with a Utilization target."""
    for metric in dig(hpa, "spec.metrics") or []:
        if metric.get("type") == "Resource" and dig(metric, "resource.name") == "cpu":
            return metric
    raise ManifestError(f"HPA {hpa['metadata']['name']} has no CPU Resource metric")


def api_scaling(objs: list[dict[str, Any]], src: _Sources) -> ApiScaling:
    """The API's HPA and its Deployment's CPU request and limit."""
    hpa_obj = find(objs, "HorizontalPodAutoscaler", API_HPA)
    hpa = (f"HorizontalPodAutoscaler {hpa_obj['metadata']['name']}", hpa_obj)
    metric = (f"{hpa[0]} CPU metric", cpu_target(hpa_obj))
    deployment = find(objs, "Deployment", dig(hpa_obj, "spec.scaleTargetRef.name") or API_HPA)
    dep = (
        f"Deployment {deployment['metadata']['name']}",
        {"r": first_container(deployment).get("resources")},
    )
    request = src.take("api cpu request", dep, "r.requests.cpu", (None, "required"))
    if request is None:
        raise ManifestError("the API container has no CPU request, so the HPA has no utilization to read")
    limit = src.take("api cpu limit", dep, "r.limits.cpu", (None, "no limit"))
    return ApiScaling(
        min_replicas=int(src.take("api minReplicas", hpa, "spec.minReplicas", (1, "HPA default"))),
        max_replicas=int(src.take("api maxReplicas", hpa, "spec.maxReplicas", (1, "required"))),
        target_pct=float(
            src.take(
                "api averageUtilization", metric, "resource.target.averageUtilization", (80, "HPA default")
            )
        ),
        cpu_request=cpu_cores(request),
        cpu_limit=cpu_cores(limit) if limit else None,
        behavior=Behavior.from_spec(src.take("api behavior", hpa, "spec.behavior", (None, "HPA defaults"))),
    )


def load(objs: list[dict[str, Any]], queue: str = "image") -> Manifests:
    """Everything the simulation reads from one overlay's rendered objects."""
    src = _Sources()
    worker = worker_scaling(objs, queue, src)
    api = api_scaling(objs, src)
    if worker.grace_s < worker.hard_limit_s:
        src.warnings.append(
            f"terminationGracePeriodSeconds {worker.grace_s} s < hard job limit {worker.hard_limit_s} s: "
            "a long job on a worker chosen for scale-in can be killed mid-run"
        )
    return Manifests(worker=worker, api=api, sources=src.sources, warnings=src.warnings)
