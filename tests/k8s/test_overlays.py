"""What each overlay promises on top of the base: minikube's NodePort and HPA range, the GPU workers."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import KUSTOMIZATIONS, Obj, container_env, find, one, pod_spec
from tests.k8s.network_policies import selects

GPU = "nvidia.com/gpu"


def worker(objects: list[Obj], queue: str) -> Obj:
    """The main container of a queue's worker Deployment."""
    found: Obj = pod_spec(one(objects, "Deployment", f"llmb-worker-{queue}"))["containers"][0]
    return found


def test_minikube_exposes_the_api_on_node_port_30080(rendered: dict[str, list[Obj]]) -> None:
    service = one(rendered["minikube"], "Service", "llmb-api")
    assert service["spec"]["type"] == "NodePort"
    assert [p["nodePort"] for p in service["spec"]["ports"]] == [30080]


def test_minikube_api_scales_between_1_and_10_on_cpu(rendered: dict[str, list[Obj]]) -> None:
    hpa = one(rendered["minikube"], "HorizontalPodAutoscaler", "llmb-api")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 10)
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]


def test_minikube_runs_the_images_make_deploy_builds(rendered: dict[str, list[Obj]]) -> None:
    images = {c["image"] for d in find(rendered["minikube"], "Deployment") for c in pod_spec(d)["containers"]}
    assert images == {"llmb-api:dev", "llmb-worker-cpu:dev"}


@pytest.mark.parametrize("queue", ["image", "chat"])
def test_gpu_workers_get_a_gpu_real_models_and_a_shared_cache(
    rendered: dict[str, list[Obj]], queue: str
) -> None:
    objects = rendered["gpu"]
    container = worker(objects, queue)
    assert container["resources"]["limits"][GPU] == "1"
    assert "llmb-worker-cuda" in container["image"]
    env = container_env(objects, container)
    assert env["LLMB_DEVICE"] == "cuda"
    assert env["LLMB_IMAGE_MODEL"] == "stabilityai/sd-turbo"
    assert env["LLMB_CHAT_MODEL"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert env["LLMB_CHAT_CACHE"] == "static"
    volumes = {v["name"]: v for v in pod_spec(one(objects, "Deployment", f"llmb-worker-{queue}"))["volumes"]}
    (cache,) = [m for m in container["volumeMounts"] if env["HF_HOME"].startswith(m["mountPath"] + "/")]
    claim = volumes[cache["name"]]["persistentVolumeClaim"]["claimName"]
    one(objects, "PersistentVolumeClaim", claim)


def test_gpu_embed_worker_stays_on_a_cpu(rendered: dict[str, list[Obj]]) -> None:
    container = worker(rendered["gpu"], "embed")
    assert GPU not in container["resources"]["limits"]
    assert container_env(rendered["gpu"], container)["LLMB_DEVICE"] == "cpu"


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_scaled_objects_wake_on_the_first_job_and_settle_slowly(
    rendered: dict[str, list[Obj]], name: str
) -> None:
    for scaled_object in find(rendered[name], "ScaledObject"):
        spec = scaled_object["spec"]
        (trigger,) = spec["triggers"]
        assert trigger.get("metricType") == "AverageValue"  # targetValue is jobs per replica
        assert float(trigger["metadata"]["targetValue"]) >= 1
        assert float(trigger["metadata"].get("activationTargetValue", "0")) == 0
        assert spec["pollingInterval"] <= 30
        assert spec["cooldownPeriod"] >= 60
        assert spec["fallback"]["replicas"] >= 1


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_keda_can_reach_the_api(rendered: dict[str, list[Obj]], name: str) -> None:
    objects = rendered[name]
    labels = one(objects, "Deployment", "llmb-api")["spec"]["template"]["metadata"]["labels"]
    rules = [
        rule
        for policy in find(objects, "NetworkPolicy")
        if selects(policy["spec"]["podSelector"], labels)
        for rule in policy["spec"].get("ingress", [])
    ]
    open_rules = [r for r in rules if not r.get("from") and 8000 in {p["port"] for p in r.get("ports", [])}]
    assert open_rules, "no NetworkPolicy rule lets KEDA (namespace keda) and clients reach the API on 8000"


def test_sentinel_runs_three_redis_pods_apart_with_a_sentinel_beside_each(
    rendered: dict[str, list[Obj]],
) -> None:
    objects = rendered["sentinel"]
    redis = one(objects, "StatefulSet", "llmb-redis")
    assert redis["spec"]["replicas"] == 3
    assert [c["name"] for c in pod_spec(redis)["containers"]] == ["redis", "sentinel"]
    (rule,) = pod_spec(redis)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert rule["topologyKey"] == "kubernetes.io/hostname"
    assert [t["metadata"]["name"] for t in redis["spec"]["volumeClaimTemplates"]] == ["data"]
    budget = one(objects, "PodDisruptionBudget", "llmb-redis")["spec"]
    assert budget["minAvailable"] == 2
    assert one(objects, "Service", "llmb-redis")["spec"]["clusterIP"] == "None"
    (config,) = [
        c for c in find(objects, "ConfigMap") if c["metadata"]["name"].startswith("llmb-redis-sentinel")
    ]
    script = config["data"]["configure.sh"]
    assert 'echo "min-replicas-to-write 1"' in script  # a master cut off from its replicas stops writing
    assert "sentinel monitor llmb" in script


def test_sentinel_points_every_redis_client_at_the_three_sentinels(rendered: dict[str, list[Obj]]) -> None:
    objects = rendered["sentinel"]
    clients = [d for d in find(objects, "Deployment") if d["metadata"]["name"] != "llmb-minio"]
    assert len(clients) == 6  # the API, the webhook sender, the batch runner, three workers
    for deployment in clients:
        env = container_env(objects, pod_spec(deployment)["containers"][0])
        assert len(env["LLMB_REDIS_SENTINELS"].split(",")) == 3
        assert env["LLMB_REDIS_MASTER"] == "llmb"
        assert env["LLMB_REDIS_WRITE_REPLICAS"] == "1"
