"""Policies on the pods the manifests run: probes, resources, security context, termination grace.

Each policy takes the rendered objects and returns its problems, one readable line each; an empty list
means the manifests keep the policy. Tests also feed them broken copies to show they notice.
"""

from __future__ import annotations

from typing import Any

from shared.readiness import probe_command
from shared.settings import Settings
from tests.k8s.manifests import (
    Obj,
    component,
    container_env,
    containers,
    find,
    pod_spec,
    ref,
    workloads,
)


def probe_problems(objects: list[Obj]) -> list[str]:
    """Long-running containers have both probes; the API's are HTTP, the workers' and the webhook sender's
    read their files, and their readiness checks that the ready file names a running process."""
    problems: list[str] = []
    for workload in workloads(objects):
        if workload["kind"] == "Job":
            continue  # runs to completion: nothing to restart or route to
        for c in pod_spec(workload)["containers"]:
            problems += [
                f"{ref(workload)} container {c['name']}: no {probe}"
                for probe in ("livenessProbe", "readinessProbe")
                if probe not in c
            ]
        if component(workload) == "api":
            problems += _api_probe_problems(workload)
        elif component(workload) in ("worker", "webhooks", "batches"):  # they touch ready and alive files
            problems += _worker_probe_problems(objects, workload)
    return problems


def _api_probe_problems(workload: Obj) -> list[str]:
    main = pod_spec(workload)["containers"][0]
    wanted = {"livenessProbe": "/health", "readinessProbe": "/ready"}
    problems = []
    for probe, path in wanted.items():
        got = main.get(probe, {}).get("httpGet", {}).get("path")
        if probe in main and got != path:
            problems.append(f"{ref(workload)}: {probe} must GET {path}, not {got}")
    return problems


def _worker_probe_problems(objects: list[Obj], workload: Obj) -> list[str]:
    main = pod_spec(workload)["containers"][0]
    env = container_env(objects, main)
    mounts = [m["mountPath"] for m in main.get("volumeMounts", [])]
    problems = []
    for probe, setting in (("readinessProbe", "LLMB_READY_FILE"), ("livenessProbe", "LLMB_ALIVE_FILE")):
        path = env.get(setting)
        if path is None:
            problems.append(f"{ref(workload)}: {setting} is not set, so {probe} has no file to read")
            continue
        if not any(path.startswith(m.rstrip("/") + "/") for m in mounts):
            problems.append(
                f"{ref(workload)}: {setting}={path} is not on a mounted volume (root is read-only)"
            )
        command = " ".join(main.get(probe, {}).get("exec", {}).get("command", []))
        if probe in main and path not in command:
            problems.append(f"{ref(workload)}: {probe} must be an exec probe on {path} ({setting})")
    ready = env.get("LLMB_READY_FILE")
    command = main.get("readinessProbe", {}).get("exec", {}).get("command")
    if ready is not None and "readinessProbe" in main and command != ["sh", "-c", probe_command(ready)]:
        problems.append(
            f"{ref(workload)}: readinessProbe must check that {ready} names a running process "
            "(shared/readiness.py probe_command), not only that it exists"
        )
    return problems


def resource_problems(objects: list[Obj]) -> list[str]:
    """Every container requests and limits CPU and memory."""
    return [
        f"{ref(workload)} container {c['name']}: no {bound}.{resource}"
        for workload in workloads(objects)
        for c in containers(workload)
        for bound in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in c.get("resources", {}).get(bound, {})
    ]


def security_problems(objects: list[Obj]) -> list[str]:
    """Every container runs as non-root on a read-only root, with no capabilities and no escalation."""
    problems: list[str] = []
    for workload in workloads(objects):
        pod = pod_spec(workload).get("securityContext", {})
        for c in containers(workload):
            where = f"{ref(workload)} container {c['name']}"
            problems += [f"{where}: {p}" for p in _container_security(pod, c.get("securityContext", {}))]
    return problems


def _container_security(pod: Obj, own: Obj) -> list[str]:
    def effective(key: str) -> Any:
        return own.get(key, pod.get(key))

    problems = []
    if effective("runAsNonRoot") is not True or effective("runAsUser") == 0:
        problems.append("runAsNonRoot is not true")
    if own.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if own.get("allowPrivilegeEscalation") is not False or own.get("privileged"):
        problems.append("allowPrivilegeEscalation is not false")
    capabilities = own.get("capabilities", {})
    if "ALL" not in capabilities.get("drop", []) or capabilities.get("add"):
        problems.append("capabilities are not dropped (drop: [ALL], nothing added)")
    if (effective("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append("no seccomp profile (RuntimeDefault)")
    return problems


def grace_problems(objects: list[Obj]) -> list[str]:
    """A worker's termination grace outlasts the job's hard limit, so scale-in never kills a running job."""
    problems = []
    default = Settings.model_fields["job_time_limit_s"].default
    for deployment in find(objects, "Deployment"):
        if component(deployment) != "worker":
            continue
        env = container_env(objects, pod_spec(deployment)["containers"][0])
        limit = int(env.get("LLMB_JOB_TIME_LIMIT_S", default))
        # The code's own formula, on settings built without reading this process's environment.
        hard = Settings.model_construct(job_time_limit_s=limit).hard_time_limit_s
        grace = pod_spec(deployment).get("terminationGracePeriodSeconds", 30)
        if grace <= hard:
            problems.append(
                f"{ref(deployment)}: terminationGracePeriodSeconds {grace} is not above the hard limit "
                f"{hard} s (LLMB_JOB_TIME_LIMIT_S {limit} + 60)"
            )
    return problems
