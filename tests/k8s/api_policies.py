"""Policies on the API's exposure: auth on, keys from Secrets, KEDA's own key, Hosts the API answers.

Like the other policies, each returns its problems as readable lines; an empty list means it holds.
The Host rules mirror the API: without LLMB_PUBLIC_URL it answers only Hosts that werkzeug's
`host_is_trusted` finds in `Settings.trusted_hosts` (LLMB_ALLOWED_HOSTS, else the bind and localhost).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from werkzeug.sansio.utils import host_is_trusted

from shared.settings import Settings
from tests.k8s.manifests import FROM_SECRET, Obj, component, find, one, pod_spec, ref, workloads

KEY_SETTINGS = ("LLMB_ADMIN_KEY", "LLMB_AUTOSCALER_KEY")
# KEDA's metrics-api scaler takes the bearer token from the auth parameter `token` (or `bearerToken`).
BEARER_PARAMETERS = {"token", "bearerToken"}
ENV_REFERENCE = re.compile(r"\$\((\w+)\)")
# Stand-ins for addresses known only at run time, spelled as valid host names so werkzeug can judge them.
POD_IP = "the-pod-ip.invalid"
NODE_IP = "the-node-ip.invalid"
FIELD_VALUES = {"status.podIP": POD_IP, "status.hostIP": NODE_IP}
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
SecretKey = tuple[str, str]


def api_containers(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, main container) of every workload running the API."""
    for workload in workloads(objects):
        if component(workload) == "api":
            yield workload, pod_spec(workload)["containers"][0]


def secret_key(var: Obj | None) -> SecretKey | None:
    """(Secret, key) an env entry reads with secretKeyRef, else None."""
    found = ((var or {}).get("valueFrom") or {}).get("secretKeyRef")
    return (found["name"], found["key"]) if found else None


def key_refs(container: Obj) -> dict[str, SecretKey | None]:
    """Where the container's LLMB_ADMIN_KEY and LLMB_AUTOSCALER_KEY come from."""
    env = {var["name"]: var for var in container.get("env", [])}
    return {name: secret_key(env.get(name)) for name in KEY_SETTINGS}


def resolved_env(objects: list[Obj], container: Obj) -> tuple[dict[str, str], list[str]]:
    """The environment as kubelet builds it ($(VAR) expanded), and the references it cannot expand."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            data = one(objects, "ConfigMap", source["configMapRef"]["name"]).get("data", {})
            env.update({source.get("prefix", "") + k: str(v) for k, v in data.items()})
    unresolved: list[str] = []
    for var in container.get("env", []):
        if "value" not in var:
            field = (var.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath", "")
            env[var["name"]] = FIELD_VALUES.get(field, FROM_SECRET)
            continue
        value = str(var["value"])
        missing = [n for n in ENV_REFERENCE.findall(value) if n not in env]
        unresolved += [f"{var['name']} uses $({n}), which no earlier env entry defines" for n in missing]
        env[var["name"]] = ENV_REFERENCE.sub(lambda m: env.get(m[1], m[0]), value)
    return env, unresolved


def trusted_hosts(env: dict[str, str]) -> list[str] | None:
    """The Hosts an API with this environment answers, or None when it checks none (LLMB_PUBLIC_URL)."""
    if env.get("LLMB_PUBLIC_URL"):
        return None
    bind = env.get("LLMB_API_BIND", Settings.model_fields["api_bind"].default)
    return Settings.model_construct(api_bind=bind, allowed_hosts=env.get("LLMB_ALLOWED_HOSTS")).trusted_hosts


def host_problem(who: str, host: str, trusted: list[str] | None) -> str | None:
    """Why the API answers 400 to `who` sending this Host, or None."""
    if trusted is None or host_is_trusted(host, trusted):
        return None
    shown = {POD_IP: "the pod's IP", NODE_IP: "the node's IP"}.get(host.partition(":")[0], host)
    return f"{who} sends Host {shown}, which the API does not answer for (trusted: {','.join(trusted)})"


def auth_problems(objects: list[Obj]) -> list[str]:
    """The API runs with LLMB_AUTH=on, its admin and autoscaler keys from Secrets (two different keys)."""
    problems: list[str] = []
    found = list(api_containers(objects))
    if not found:
        return ["no workload with component api"]
    for workload, container in found:
        env, _ = resolved_env(objects, container)
        if env.get("LLMB_AUTH") != "on":
            problems.append(
                f"{ref(workload)}: LLMB_AUTH is {env.get('LLMB_AUTH', 'unset')}, not on: "
                "an API bound beyond loopback must require keys"
            )
        refs = key_refs(container)
        problems += [
            f"{ref(workload)}: {name} does not come from a secretKeyRef"
            for name, where in refs.items()
            if where is None
        ]
        if refs["LLMB_ADMIN_KEY"] is not None and refs["LLMB_ADMIN_KEY"] == refs["LLMB_AUTOSCALER_KEY"]:
            problems.append(f"{ref(workload)}: the admin and the autoscaler key are one Secret key")
    return problems


def autoscaler_auth_problems(objects: list[Obj]) -> list[str]:
    """Every trigger reading GET /v1/queues sends the API's autoscaler key as a bearer token."""
    refs = next((key_refs(c) for _, c in api_containers(objects)), {})
    problems: list[str] = []
    for scaled_object in find(objects, "ScaledObject"):
        for trigger in scaled_object["spec"]["triggers"]:
            if urlsplit(trigger["metadata"].get("url", "")).path == "/v1/queues":
                problems += [f"{ref(scaled_object)}: {p}" for p in _trigger_auth(objects, trigger, refs)]
    return problems


def _trigger_auth(objects: list[Obj], trigger: Obj, refs: dict[str, SecretKey | None]) -> list[str]:
    metadata = trigger["metadata"]
    modes = metadata.get("authModes", metadata.get("authMode", "")).split(",")
    problems = [] if "bearer" in map(str.strip, modes) else ["authModes is not bearer: no key is sent"]
    auth_ref = trigger.get("authenticationRef")
    if auth_ref is None:
        return [*problems, "no authenticationRef: GET /v1/queues answers 401 without a key"]
    kind = auth_ref.get("kind", "TriggerAuthentication")
    auths = find(objects, kind, auth_ref["name"])
    if not auths:
        return [*problems, f"authenticationRef names {kind}/{auth_ref['name']}, which is not rendered"]
    sent = {
        (t["name"], t["key"])
        for t in auths[0]["spec"].get("secretTargetRef", [])
        if t["parameter"] in BEARER_PARAMETERS
    }
    wanted = refs.get("LLMB_AUTOSCALER_KEY")
    if refs.get("LLMB_ADMIN_KEY") in sent:
        problems.append(f"{ref(auths[0])} sends the admin key; KEDA needs only the autoscaler key")
    elif sent != {wanted}:
        problems.append(
            f"{ref(auths[0])} sends {sorted(sent)} as the token, not {wanted} (the API's LLMB_AUTOSCALER_KEY)"
        )
    return problems


def host_problems(objects: list[Obj]) -> list[str]:
    """The probes, KEDA's triggers, NodePort clients and Prometheus all send a Host the API answers."""
    problems: list[str] = []
    for workload, container in api_containers(objects):
        env, unresolved = resolved_env(objects, container)
        problems += [f"{ref(workload)}: {p}" for p in unresolved]
        trusted = trusted_hosts(env)
        callers = [
            (f"{ref(workload)} {probe}", _probe_host(container[probe]["httpGet"]))
            for probe in PROBES
            if "httpGet" in container.get(probe, {})
        ]
        callers += [
            (f"{ref(so)} trigger", urlsplit(t["metadata"]["url"]).netloc)
            for so in find(objects, "ScaledObject")
            for t in so["spec"]["triggers"]
            if "url" in t["metadata"]
        ]
        callers += [(f"{ref(s)} (NodePort) clients", NODE_IP) for s in _node_ports(objects, workload)]
        callers += [(f"Prometheus scraping {ref(workload)}", f"{POD_IP}:{p}") for p in _scraped(workload)]
        problems += [p for who, host in callers if (p := host_problem(who, host, trusted))]
    return problems


def _probe_host(http: Obj) -> str:
    """The Host an httpGet probe sends: its Host header, else its `host` (kubelet's default: the pod IP)."""
    headers = {h["name"].lower(): h["value"] for h in http.get("httpHeaders", [])}
    return str(headers.get("host", http.get("host", POD_IP)))


def _scraped(workload: Obj) -> list[str]:
    """The port Prometheus scrapes when the pods ask for it (prometheus.io/scrape): it sends the pod's IP."""
    annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true":
        return []
    return [annotations.get("prometheus.io/port", "80")]


def _node_ports(objects: list[Obj], workload: Obj) -> list[Obj]:
    """NodePort Services in front of the workload: their clients send a node's address as Host."""
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    return [
        s
        for s in find(objects, "Service")
        if s["spec"].get("type") == "NodePort"
        and all(labels.get(k) == v for k, v in s["spec"].get("selector", {}).items())
    ]
