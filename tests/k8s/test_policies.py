"""The manifests keep every policy, and each policy notices when a manifest breaks it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.k8s.api_policies import auth_problems, autoscaler_auth_problems, host_problems
from tests.k8s.batch_policies import batch_runner_problems
from tests.k8s.cluster_policies import (
    redis_problems,
    scaling_problems,
    secret_problems,
    settings_problems,
)
from tests.k8s.manifests import KUSTOMIZATIONS, Obj, find, one
from tests.k8s.network_policies import network_problems
from tests.k8s.observability_policies import dashboard_problems, scrape_network_problems, scrape_problems
from tests.k8s.pod_policies import grace_problems, probe_problems, resource_problems, security_problems

Policy = Callable[[list[Obj]], list[str]]
POLICIES: list[Policy] = [
    probe_problems,
    resource_problems,
    security_problems,
    grace_problems,
    scaling_problems,
    settings_problems,
    secret_problems,
    network_problems,
    redis_problems,
    auth_problems,
    autoscaler_auth_problems,
    host_problems,
    scrape_problems,
    scrape_network_problems,
    dashboard_problems,
    batch_runner_problems,
]


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.__name__)
def test_manifests_keep_the_policy(rendered: dict[str, list[Obj]], name: str, policy: Policy) -> None:
    assert policy(rendered[name]) == []


def container(objects: list[Obj], kind: str, name: str, index: int = 0) -> Obj:
    """A container of a workload, to break in place."""
    found: Obj = one(objects, kind, name)["spec"]["template"]["spec"]["containers"][index]
    return found


def set_env(c: Obj, name: str, value: str) -> None:
    """Set (or add) one literal env entry of a container."""
    c["env"] = [v for v in c.get("env", []) if v["name"] != name] + [{"name": name, "value": value}]


def no_worker_readiness(objects: list[Obj]) -> None:
    del container(objects, "Deployment", "llmb-worker-chat")["readinessProbe"]


def file_only_readiness(name: str) -> Callable[[list[Obj]], None]:
    def breakage(objects: list[Obj]) -> None:
        probe = container(objects, "Deployment", name)["readinessProbe"]
        probe["exec"]["command"] = ["test", "-f", "/run/llmb/ready"]

    breakage.__name__ = f"file_only_readiness_{name.removeprefix('llmb-').replace('-', '_')}"
    return breakage


def api_liveness_on_ready(objects: list[Obj]) -> None:
    container(objects, "Deployment", "llmb-api")["livenessProbe"]["httpGet"]["path"] = "/ready"


def worker_probe_on_other_file(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-worker-image"), "LLMB_ALIVE_FILE", "/run/llmb/heartbeat")


def no_memory_limit(objects: list[Obj]) -> None:
    del container(objects, "StatefulSet", "llmb-redis")["resources"]["limits"]["memory"]


def writable_root(objects: list[Obj]) -> None:
    container(objects, "Deployment", "llmb-api")["securityContext"]["readOnlyRootFilesystem"] = False


def capabilities_kept(objects: list[Obj]) -> None:
    del container(objects, "Job", "llmb-minio-bucket")["securityContext"]["capabilities"]


def runs_as_root(objects: list[Obj]) -> None:
    container(objects, "Deployment", "llmb-worker-embed")["securityContext"]["runAsUser"] = 0


def default_grace(objects: list[Obj]) -> None:
    del one(objects, "Deployment", "llmb-worker-image")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"
    ]


def settings_config(objects: list[Obj]) -> Obj:
    """The llmb-config ConfigMap (its name carries kustomize's hash suffix)."""
    (config,) = [c for c in find(objects, "ConfigMap") if c["metadata"]["name"].startswith("llmb-config")]
    return config


def longer_jobs(objects: list[Obj]) -> None:
    settings_config(objects)["data"]["LLMB_JOB_TIME_LIMIT_S"] = "1800"


def queue_renamed(objects: list[Obj]) -> None:
    trigger = one(objects, "ScaledObject", "llmb-worker-image")["spec"]["triggers"][0]
    trigger["metadata"]["valueLocation"] = "queues.images.load"


def scales_on_waiting_only(objects: list[Obj]) -> None:
    trigger = one(objects, "ScaledObject", "llmb-worker-chat")["spec"]["triggers"][0]
    trigger["metadata"]["valueLocation"] = "queues.chat.waiting"


def deployment_consumes_other_queue(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-worker-embed"), "LLMB_QUEUES", "chat")


def redis_list_trigger(objects: list[Obj]) -> None:
    trigger = one(objects, "ScaledObject", "llmb-worker-image")["spec"]["triggers"][0]
    trigger.update(type="redis", metadata={"listName": "image", "listLength": "2"})


def unknown_setting_in_env(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-api"), "LLMB_REDIS_URI", "redis://llmb-redis:6379/0")


def unknown_setting_in_config(objects: list[Obj]) -> None:
    settings_config(objects)["data"]["LLMB_LIMITS__MAX_PROMPT"] = "100"


def service_links_on(objects: list[Obj]) -> None:
    del one(objects, "Deployment", "llmb-api")["spec"]["template"]["spec"]["enableServiceLinks"]


def literal_secret(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-worker-chat"), "LLMB_S3_SECRET_KEY", "minio123")


def committed_secret(objects: list[Obj]) -> None:
    objects.append(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "llmb-s3"}, "data": {"k": "dg=="}}
    )


def api_container_env(objects: list[Obj]) -> list[Obj]:
    env: list[Obj] = container(objects, "Deployment", "llmb-api")["env"]
    return env


def drop_env(objects: list[Obj], name: str) -> None:
    env = api_container_env(objects)
    env.remove(next(v for v in env if v["name"] == name))


def auth_off(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-api"), "LLMB_AUTH", "off")


def auth_unset(objects: list[Obj]) -> None:
    drop_env(objects, "LLMB_AUTH")


def literal_admin_key(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-api"), "LLMB_ADMIN_KEY", "llmb_abcdefabcdef_" + "x" * 43)


def admin_key_from_config_map(objects: list[Obj]) -> None:
    (var,) = [v for v in api_container_env(objects) if v["name"] == "LLMB_ADMIN_KEY"]
    var["valueFrom"] = {"configMapKeyRef": {"name": "llmb-config", "key": "admin-key"}}


def no_autoscaler_key(objects: list[Obj]) -> None:
    drop_env(objects, "LLMB_AUTOSCALER_KEY")


def one_key_for_both(objects: list[Obj]) -> None:
    (var,) = [v for v in api_container_env(objects) if v["name"] == "LLMB_AUTOSCALER_KEY"]
    var["valueFrom"]["secretKeyRef"]["key"] = "admin-key"


def trigger_without_key(objects: list[Obj]) -> None:
    del one(objects, "ScaledObject", "llmb-worker-chat")["spec"]["triggers"][0]["authenticationRef"]


def trigger_not_bearer(objects: list[Obj]) -> None:
    del one(objects, "ScaledObject", "llmb-worker-embed")["spec"]["triggers"][0]["metadata"]["authModes"]


def trigger_auth_missing(objects: list[Obj]) -> None:
    (auth,) = find(objects, "TriggerAuthentication")
    objects.remove(auth)


def keda_sends_admin_key(objects: list[Obj]) -> None:
    (auth,) = find(objects, "TriggerAuthentication")
    auth["spec"]["secretTargetRef"][0]["key"] = "admin-key"


def keda_sends_other_secret(objects: list[Obj]) -> None:
    (auth,) = find(objects, "TriggerAuthentication")
    auth["spec"]["secretTargetRef"][0]["name"] = "llmb-redis"


def probe_without_host(objects: list[Obj]) -> None:
    """A probe without a Host header sends the pod's IP, which only LLMB_ALLOWED_HOSTS' $(POD_IP) admits."""
    del container(objects, "Deployment", "llmb-api")["readinessProbe"]["httpGet"]["httpHeaders"]
    (var,) = [v for v in api_container_env(objects) if v["name"] == "LLMB_ALLOWED_HOSTS"]
    var["value"] = var["value"].replace(",$(POD_IP)", "")


def hosts_without_service_name(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-api"), "LLMB_ALLOWED_HOSTS", "localhost,$(NODE_IP)")


def hosts_without_node(objects: list[Obj]) -> None:
    (var,) = [v for v in api_container_env(objects) if v["name"] == "LLMB_ALLOWED_HOSTS"]
    var["value"] = var["value"].replace(",$(NODE_IP)", "")


def node_ip_defined_too_late(objects: list[Obj]) -> None:
    env = api_container_env(objects)
    node_ip = next(v for v in env if v["name"] == "NODE_IP")
    env.remove(node_ip)
    env.append(node_ip)


def no_minio_policy(objects: list[Obj]) -> None:
    objects.remove(one(objects, "NetworkPolicy", "llmb-minio"))


def no_policies(objects: list[Obj]) -> None:
    for policy in find(objects, "NetworkPolicy"):
        objects.remove(policy)


def redis_open_to_all(objects: list[Obj]) -> None:
    one(objects, "NetworkPolicy", "llmb-redis")["spec"]["ingress"].append({})


def redis_without_aof(objects: list[Obj]) -> None:
    c = container(objects, "StatefulSet", "llmb-redis")
    c["args"][c["args"].index("--appendonly") + 1] = "no"


BREAKAGES = [
    (no_worker_readiness, probe_problems, "no readinessProbe"),
    (file_only_readiness("llmb-webhooks"), probe_problems, "/run/llmb/ready names a running process"),
    (file_only_readiness("llmb-worker-embed"), probe_problems, "/run/llmb/ready names a running process"),
    (api_liveness_on_ready, probe_problems, "must GET /health"),
    (worker_probe_on_other_file, probe_problems, "exec probe on /run/llmb/heartbeat"),
    (no_memory_limit, resource_problems, "no limits.memory"),
    (writable_root, security_problems, "readOnlyRootFilesystem"),
    (capabilities_kept, security_problems, "capabilities"),
    (runs_as_root, security_problems, "runAsNonRoot"),
    (default_grace, grace_problems, "terminationGracePeriodSeconds 30"),
    (longer_jobs, grace_problems, "hard limit 1860"),
    (queue_renamed, scaling_problems, "queue 'images' is not one the workers consume"),
    (scales_on_waiting_only, scaling_problems, "queues.<queue>.load"),
    (deployment_consumes_other_queue, scaling_problems, "its Deployment consumes 'chat'"),
    (redis_list_trigger, scaling_problems, "does not count running jobs"),
    (unknown_setting_in_env, settings_problems, "LLMB_REDIS_URI is not a setting"),
    (unknown_setting_in_config, settings_problems, "LLMB_LIMITS__MAX_PROMPT is not a setting"),
    (service_links_on, settings_problems, "enableServiceLinks"),
    (literal_secret, secret_problems, "LLMB_S3_SECRET_KEY has a literal value"),
    (literal_admin_key, secret_problems, "LLMB_ADMIN_KEY has a literal value"),
    (admin_key_from_config_map, secret_problems, "LLMB_ADMIN_KEY has a valueFrom, not a secretKeyRef"),
    (committed_secret, secret_problems, "Secret with values is committed"),
    (
        no_minio_policy,
        network_problems,
        "admits [], should admit exactly ['api', 'batches', 'minio-setup', 'worker']",
    ),
    (no_policies, network_problems, "no NetworkPolicy selects it"),
    (redis_open_to_all, network_problems, "admits every source"),
    (redis_without_aof, redis_problems, "--appendonly yes"),
    (auth_off, auth_problems, "LLMB_AUTH is off, not on"),
    (auth_unset, auth_problems, "LLMB_AUTH is unset, not on"),
    (literal_admin_key, auth_problems, "LLMB_ADMIN_KEY does not come from a secretKeyRef"),
    (no_autoscaler_key, auth_problems, "LLMB_AUTOSCALER_KEY does not come from a secretKeyRef"),
    (one_key_for_both, auth_problems, "the admin and the autoscaler key are one Secret key"),
    (trigger_without_key, autoscaler_auth_problems, "llmb-worker-chat: no authenticationRef"),
    (trigger_not_bearer, autoscaler_auth_problems, "llmb-worker-embed: authModes is not bearer"),
    (trigger_auth_missing, autoscaler_auth_problems, "which is not rendered"),
    (keda_sends_admin_key, autoscaler_auth_problems, "sends the admin key"),
    (keda_sends_other_secret, autoscaler_auth_problems, "('llmb-redis', 'autoscaler-key')"),
    (probe_without_host, host_problems, "readinessProbe sends Host the pod's IP"),
    (hosts_without_service_name, host_problems, "trigger sends Host llmb-api.llmb.svc.cluster.local:8000"),
    (hosts_without_node, host_problems, "Service/llmb-api (NodePort) clients sends Host the node's IP"),
    (node_ip_defined_too_late, host_problems, "uses $(NODE_IP), which no earlier env entry defines"),
]


def test_a_public_url_lifts_the_host_check(fresh: Callable[[str], list[Obj]]) -> None:
    """With LLMB_PUBLIC_URL the API answers any Host (links come from it), so no caller can be refused."""
    objects = fresh("minikube")
    probe_without_host(objects)
    hosts_without_service_name(objects)
    set_env(container(objects, "Deployment", "llmb-api"), "LLMB_PUBLIC_URL", "https://llmb.example.com")
    assert host_problems(objects) == []


@pytest.mark.parametrize(
    ("breakage", "policy", "expected"), BREAKAGES, ids=[b[0].__name__ for b in BREAKAGES]
)
def test_policy_reports_breakage(
    fresh: Callable[[str], list[Obj]], breakage: Callable[[list[Obj]], None], policy: Policy, expected: str
) -> None:
    objects = fresh("minikube")
    assert policy(objects) == []
    breakage(objects)
    problems = policy(objects)
    assert any(expected in p for p in problems), problems
