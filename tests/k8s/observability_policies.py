"""Policies on what an operator's Prometheus and Grafana need: scrape annotations that name real ports,
NetworkPolicies that admit the scrape, JSON logs, and the dashboard ConfigMap.

Like the other policies, each returns its problems as readable lines; an empty list means it holds.
"""

from __future__ import annotations

import json

from tests.k8s.manifests import REPO, Obj, component, container_env, find, pod_spec, ref, workloads
from tests.k8s.network_policies import selects

DASHBOARD = REPO / "deploy" / "grafana" / "llmb.json"
SCRAPED = {"api": "http", "worker": "metrics"}  # component -> the container port Prometheus scrapes
ANNOTATION = "prometheus.io/"
DASHBOARD_LABEL = ("grafana_dashboard", "1")


def scrape_port(workload: Obj) -> int | None:
    """The port the pods' prometheus.io/port annotation names, when they ask to be scraped."""
    annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
    if annotations.get(f"{ANNOTATION}scrape") != "true":
        return None
    return int(annotations.get(f"{ANNOTATION}port", 0))


def scrape_problems(objects: list[Obj]) -> list[str]:
    """API and worker pods ask to be scraped on the port that serves /metrics, and log JSON."""
    problems: list[str] = []
    for workload in workloads(objects):
        role = component(workload)
        if role not in SCRAPED:
            continue
        where = ref(workload)
        main = pod_spec(workload)["containers"][0]
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        ports = {p.get("name"): p["containerPort"] for p in main.get("ports", [])}
        wanted = ports.get(SCRAPED[role])
        if wanted is None:
            problems.append(f"{where}: no container port named {SCRAPED[role]}")
        if scrape_port(workload) != wanted or annotations.get(f"{ANNOTATION}path") != "/metrics":
            problems.append(
                f"{where}: prometheus.io annotations do not name /metrics on port {SCRAPED[role]} ({wanted})"
            )
        env = container_env(objects, main)
        if role == "worker" and env.get("LLMB_METRICS_PORT") != str(wanted):
            problems.append(f"{where}: LLMB_METRICS_PORT is {env.get('LLMB_METRICS_PORT')}, not {wanted}")
        if env.get("LLMB_LOG_FORMAT") != "json":
            problems.append(f"{where}: LLMB_LOG_FORMAT is {env.get('LLMB_LOG_FORMAT', 'unset')}, not json")
    return problems


def scrape_network_problems(objects: list[Obj]) -> list[str]:
    """Every port a pod asks to be scraped on is admitted by a NetworkPolicy that selects the pod."""
    problems = []
    for workload in workloads(objects):
        port = scrape_port(workload)
        if port is None:
            continue
        labels = workload["spec"]["template"]["metadata"].get("labels", {})
        names = {
            p.get("name")
            for c in pod_spec(workload)["containers"]
            for p in c.get("ports", [])
            if p["containerPort"] == port
        }
        rules = [
            rule
            for policy in find(objects, "NetworkPolicy")
            if "Ingress" in policy["spec"].get("policyTypes", ["Ingress"])
            and selects(policy["spec"]["podSelector"], labels)
            for rule in policy["spec"].get("ingress", [])
        ]
        if not any(_admits_port(rule, port, names) for rule in rules):
            problems.append(f"{ref(workload)}: no NetworkPolicy admits scrapers on port {port}")
    return problems


def _admits_port(rule: Obj, port: int, names: set[str | None]) -> bool:
    """Whether an ingress rule admits any source on this port (by number or by the container port's name)."""
    if rule.get("from"):
        return False  # named pods only: a scraper elsewhere is not among them
    allowed = [p.get("port") for p in rule.get("ports", [])]
    return not allowed or port in allowed or any(name in allowed for name in names if name)


def dashboard_problems(objects: list[Obj]) -> list[str]:
    """One ConfigMap labelled grafana_dashboard: "1" holds deploy/grafana/llmb.json as it is."""
    key, value = DASHBOARD_LABEL
    labelled = [c for c in find(objects, "ConfigMap") if c["metadata"].get("labels", {}).get(key) == value]
    if len(labelled) != 1:
        return [f"{len(labelled)} ConfigMaps are labelled {key}: {value!r}, not one (Grafana's sidecar)"]
    data = labelled[0].get("data", {})
    if set(data) != {DASHBOARD.name}:
        return [f"{ref(labelled[0])}: holds {sorted(data)}, not {DASHBOARD.name}"]
    if json.loads(data[DASHBOARD.name]) != json.loads(DASHBOARD.read_text(encoding="utf-8")):
        return [f"{ref(labelled[0])}: its {DASHBOARD.name} differs from {DASHBOARD.relative_to(REPO)}"]
    return []
