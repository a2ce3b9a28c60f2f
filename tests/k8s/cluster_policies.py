"""Policies across objects: scaling signals, setting names, secrets, network isolation, Redis durability.

Like pod_policies, each returns its problems as readable lines; an empty list means the policy holds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from shared.queues import QUEUES
from tests.k8s.manifests import (
    Obj,
    component,
    container_env,
    env_names,
    find,
    known_settings,
    pod_spec,
    ref,
    workloads,
)

LOAD_LOCATION = re.compile(r"^queues\.(?P<queue>[^.]+)\.load$")
# Names that hold a credential: passwords, secrets, tokens, and every *_KEY (LLMB_ADMIN_KEY, S3 keys, ...).
SENSITIVE = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|_KEY$|REDIS_URL|TOKEN")
# Who may open a connection to each private service (pods' app.kubernetes.io/component).
PRIVATE_SERVICES = {
    "redis": {"api", "worker", "webhooks", "batches"},
    "minio": {"api", "worker", "batches", "minio-setup"},
}


def scaling_problems(objects: list[Obj]) -> list[str]:
    """Each worker Deployment has a ScaledObject on its own queue's load (waiting + running) from the API."""
    scaled = {so["spec"]["scaleTargetRef"]["name"] for so in find(objects, "ScaledObject")}
    problems = [
        f"{ref(d)}: no ScaledObject scales it"
        for d in find(objects, "Deployment")
        if component(d) == "worker" and d["metadata"]["name"] not in scaled
    ]
    for scaled_object in find(objects, "ScaledObject"):
        problems += _scaled_object_problems(objects, scaled_object)
    return problems


def _scaled_object_problems(objects: list[Obj], scaled_object: Obj) -> list[str]:
    where = ref(scaled_object)
    target = find(objects, "Deployment", scaled_object["spec"]["scaleTargetRef"]["name"])
    if not target:
        return [f"{where}: its target Deployment does not exist"]
    consumed = container_env(objects, pod_spec(target[0])["containers"][0]).get("LLMB_QUEUES", "image")
    problems = []
    for trigger in scaled_object["spec"]["triggers"]:
        if trigger["type"] != "metrics-api":
            problems.append(
                f"{where}: trigger {trigger['type']} does not count running jobs; use metrics-api"
            )
            continue
        match = LOAD_LOCATION.match(trigger["metadata"].get("valueLocation", ""))
        if match is None:
            problems.append(f"{where}: valueLocation must be queues.<queue>.load (waiting + running)")
            continue
        queue = match["queue"]
        if queue not in QUEUES:
            problems.append(f"{where}: queue {queue!r} is not one the workers consume {QUEUES}")
        if queue != consumed:
            problems.append(f"{where}: scales on queue {queue!r} but its Deployment consumes {consumed!r}")
        problems += _url_problems(objects, where, trigger["metadata"].get("url", ""))
    return problems


def _url_problems(objects: list[Obj], where: str, url: str) -> list[str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").split(".")
    service = find(objects, "Service", host[0])
    ports = {p["port"] for s in service for p in s["spec"]["ports"]}
    namespace = service[0]["metadata"].get("namespace") if service else None
    if parts.path != "/v1/queues" or not service or parts.port not in ports:
        return [f"{where}: url {url} is not GET /v1/queues on the API Service"]
    if len(host) > 1 and host[1] != namespace:
        return [f"{where}: url {url} names namespace {host[1]}, the Service is in {namespace}"]
    return []


def unknown_settings(names: Iterable[tuple[str, str]]) -> list[str]:
    """(where, name) pairs whose LLMB_ name is not a setting the code reads."""
    known = known_settings()
    return [
        f"{where}: {name} is not a setting the code reads (shared/settings.py)"
        for where, name in names
        if name.startswith("LLMB_") and name not in known
    ]


def settings_problems(objects: list[Obj]) -> list[str]:
    """Every LLMB_ name is a real setting, and no Service link injects LLMB_ variables into a pod."""
    problems = unknown_settings(env_names(objects))
    for workload in workloads(objects):
        if pod_spec(workload).get("enableServiceLinks", True):
            problems.append(
                f"{ref(workload)}: enableServiceLinks is not false, so Services named llmb-* "
                "inject LLMB_*_PORT variables into the settings' namespace"
            )
    return problems


def secret_problems(objects: list[Obj]) -> list[str]:
    """Credentials reach pods from Secrets only: none is written in a manifest."""
    problems = [
        f"{ref(s)}: a Secret with values is committed; create it at deploy time"
        for s in find(objects, "Secret")
        if s.get("data") or s.get("stringData")
    ]
    problems += [
        f"{ref(c)}: {key} looks like a credential in a ConfigMap"
        for c in find(objects, "ConfigMap")
        for key in c.get("data", {})
        if SENSITIVE.search(key)
    ]
    for workload in workloads(objects):
        for c in pod_spec(workload)["containers"]:
            problems += [
                f"{ref(workload)} container {c['name']}: {var['name']} has "
                f"{'a literal value' if 'value' in var else 'a valueFrom'}, not a secretKeyRef"
                for var in c.get("env", [])
                if SENSITIVE.search(var["name"]) and "secretKeyRef" not in var.get("valueFrom", {})
            ]
    return problems


REDIS_FLAGS = {"--appendonly": "yes", "--appendfsync": "everysec", "--maxmemory-policy": "noeviction"}


def redis_args_problems(args: list[str]) -> list[str]:
    """What a redis-server command line lacks: AOF on, fsync every second, noeviction."""
    following = dict(itertools.pairwise(args))
    return [
        f"redis-server needs {flag} {value}"
        for flag, value in REDIS_FLAGS.items()
        if following.get(flag) != value
    ]


def redis_problems(objects: list[Obj]) -> list[str]:
    """Redis keeps its append-only file on a PersistentVolumeClaim and never evicts a key."""
    problems: list[str] = []
    for workload in workloads(objects):
        if component(workload) != "redis":
            continue
        main = pod_spec(workload)["containers"][0]
        args = [*main.get("command", []), *main.get("args", [])]
        problems += [f"{ref(workload)}: {p}" for p in redis_args_problems(args)]
        data_dir = dict(itertools.pairwise(args)).get("--dir", "/data")
        claims = {t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])}
        mounted = {m["name"] for m in main.get("volumeMounts", []) if m["mountPath"] == data_dir}
        if not mounted & claims:
            problems.append(f"{ref(workload)}: {data_dir} (the AOF) is not on a PersistentVolumeClaim")
    return problems
