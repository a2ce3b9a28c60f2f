"""The batch runner's policy: one Deployment runs `python -m api.batches` from the API image, alone
(one replica, Recreate), with egress only to Redis, MinIO and DNS.

Like pod_policies, it returns its problems as readable lines; an empty list means the policy holds.
"""

from __future__ import annotations

from tests.k8s.manifests import Obj, container_env, find, pod_spec, ref
from tests.k8s.network_policies import selects

RUNNER = ["python", "-m", "api.batches"]
# Who the runner must reach (pods' app.kubernetes.io/name) and on which port; the sentinels too when
# it asks them for the master (LLMB_REDIS_SENTINELS).
REACHES = [("llmb-redis", 6379), ("llmb-minio", 9000)]
SENTINELS = ("llmb-redis", 26379)


def batch_runner_problems(objects: list[Obj]) -> list[str]:
    """Exactly one Deployment runs the batch runner, as a single replica that can reach Redis and MinIO."""
    runners = [
        d for d in find(objects, "Deployment") if pod_spec(d)["containers"][0].get("command") == RUNNER
    ]
    if len(runners) != 1:
        return [f"{len(runners)} Deployments run {' '.join(RUNNER)}, not one: batches would never run"]
    (runner,) = runners
    where = ref(runner)
    main = pod_spec(runner)["containers"][0]
    problems = []
    if "llmb-api" not in main["image"]:
        problems.append(f"{where}: runs image {main['image']}, not the API's (llmb-api)")
    if runner["spec"].get("replicas", 1) != 1 or runner["spec"].get("strategy", {}).get("type") != "Recreate":
        problems.append(f"{where}: must be one replica replaced with Recreate (the runner runs alone)")
    reaches = REACHES + ([SENTINELS] if "LLMB_REDIS_SENTINELS" in container_env(objects, main) else [])
    return problems + _egress_problems(objects, runner, reaches)


def _egress_problems(objects: list[Obj], runner: Obj, reaches: list[tuple[str, int]]) -> list[str]:
    labels = runner["spec"]["template"]["metadata"].get("labels", {})
    policies = [
        p
        for p in find(objects, "NetworkPolicy")
        if "Egress" in p["spec"].get("policyTypes", []) and selects(p["spec"]["podSelector"], labels)
    ]
    if not policies:
        return [f"{ref(runner)}: no egress NetworkPolicy selects it, so it may connect anywhere"]
    rules = [rule for policy in policies for rule in policy["spec"].get("egress", [])]
    problems = []
    for name, port in reaches:
        if not any(_admits(rule, name, port) for rule in rules):
            problems.append(f"{ref(runner)}: its egress does not reach {name} on port {port}")
    return problems


def _admits(rule: Obj, name: str, port: int) -> bool:
    ports = {p["port"] for p in rule.get("ports", [])}
    peers = [p.get("podSelector", {}).get("matchLabels", {}) for p in rule.get("to", [])]
    return (not ports or port in ports) and any(m.get("app.kubernetes.io/name") == name for m in peers)
