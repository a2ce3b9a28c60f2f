"""The network policy: Redis and MinIO accept connections only from the pods that need them."""

from __future__ import annotations

from tests.k8s.cluster_policies import PRIVATE_SERVICES
from tests.k8s.manifests import Obj, component, find, pod_spec, ref, workloads

COMPONENT = "app.kubernetes.io/component"


def network_problems(objects: list[Obj]) -> list[str]:
    """For Redis and MinIO, the NetworkPolicies that select them admit exactly their clients."""
    problems: list[str] = []
    for role, allowed in PRIVATE_SERVICES.items():
        pods = [w for w in workloads(objects) if component(w) == role]
        if not pods:
            problems.append(f"no workload with component {role}")
        for workload in pods:
            # Replicated Redis (a sentinel beside each) also admits its own pods: replication, sentinels.
            peers = {role} if len(pod_spec(workload)["containers"]) > 1 and role == "redis" else set()
            problems += _isolation_problems(objects, workload, allowed | peers)
    return problems


def _isolation_problems(objects: list[Obj], workload: Obj, allowed: set[str]) -> list[str]:
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    policies = [
        p
        for p in find(objects, "NetworkPolicy")
        if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], labels)
    ]
    if not policies:
        return [f"{ref(workload)}: no NetworkPolicy selects it, so every pod may connect"]
    problems: list[str] = []
    admitted: set[str] = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            sources, errors = _rule_sources(rule)
            problems += [f"{ref(workload)}: {ref(policy)} {e}" for e in errors]
            admitted |= sources
    if not problems and admitted != allowed:
        problems.append(f"{ref(workload)}: admits {sorted(admitted)}, should admit exactly {sorted(allowed)}")
    return problems


def _rule_sources(rule: Obj) -> tuple[set[str], list[str]]:
    """The components an ingress rule admits, and why it admits more than named pods."""
    peers = rule.get("from", [])
    if not peers:
        return set(), ["has a rule with no `from`: it admits every source"]
    sources: set[str] = set()
    errors = []
    for peer in peers:
        if "ipBlock" in peer or "namespaceSelector" in peer or "podSelector" not in peer:
            errors.append("admits addresses or namespaces, not named pods")
            continue
        named = _components(peer["podSelector"])
        if named is None:
            errors.append("admits pods without naming their component")
        else:
            sources |= named
    return sources, errors


def _components(selector: Obj) -> set[str] | None:
    if COMPONENT in selector.get("matchLabels", {}):
        return {selector["matchLabels"][COMPONENT]}
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == COMPONENT and expression["operator"] == "In":
            return set(expression["values"])
    return None


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    """Whether a label selector matches these labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True
