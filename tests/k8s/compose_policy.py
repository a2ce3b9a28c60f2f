"""The policy for docker/compose.yaml: known settings, credentials from docker/.env, health, durable
Redis, and an API that requires keys and answers its own health check's Host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from shared.readiness import probe_command
from shared.settings import LOOPBACK, Settings, bind_host
from tests.k8s.api_policies import host_problem, trusted_hosts
from tests.k8s.cluster_policies import SENSITIVE, redis_args_problems, unknown_settings
from tests.k8s.manifests import Obj

SERVICES = {"redis", "minio", "minio-bucket", "api", "webhooks", "batches", "worker"}
# Services whose healthcheck reads the ready and alive files they write.
HEALTH_FILES = ("worker", "batches")
# Services whose healthcheck must see that the ready file names a running process (not a file left over).
READY_SERVICES = ("worker", "webhooks", "batches")
BATCH_RUNNER = ["python", "-m", "api.batches"]
ONE_SHOT = {"minio-bucket"}
DURATION = re.compile(r"(\d+)(h|m|s)")
SECONDS = {"h": 3600, "m": 60, "s": 1}
# `${NAME:?message}`: compose refuses to start while NAME is unset or empty.
REQUIRED = re.compile(r"\$\{\w+:\?")
URL = re.compile(r"https?://[^\s'\"]+")
# Where the file says the host reaches the API (the published port).
HOST_CLIENT = "localhost:8000"


def compose_problems(compose: Obj) -> list[str]:
    """Everything docker/compose.yaml gets wrong against the deployment policy."""
    services: dict[str, Obj] = compose.get("services", {})
    problems = [f"compose: no service {name}" for name in sorted(SERVICES - services.keys())]
    problems += unknown_settings(
        (f"compose service {name}", key) for name, svc in services.items() for key in environment(svc)
    )
    problems += [
        f"compose service {name}: {key} is a literal credential; interpolate it from docker/.env"
        if "${" not in value
        else f"compose service {name}: {key} may be empty; write ${{NAME:?message}} to refuse to start"
        for name, svc in services.items()
        for key, value in environment(svc).items()
        if SENSITIVE.search(key) and not REQUIRED.search(value)
    ]
    problems += [
        f"compose service {name}: no healthcheck"
        for name, svc in services.items()
        if name not in ONE_SHOT and "healthcheck" not in svc
    ]
    problems += [
        f"compose service redis: {p}" for p in redis_args_problems(command(services.get("redis", {})))
    ]
    problems += [p for name, svc in services.items() for p in api_problems(name, svc)]
    problems += [p for name in READY_SERVICES for p in ready_problems(name, services.get(name, {}))]
    problems += [p for name in HEALTH_FILES for p in _health_file_problems(name, services.get(name, {}))]
    return problems + _worker_problems(services.get("worker", {})) + _runner_problems(services)


def ready_problems(name: str, service: Obj) -> list[str]:
    """The healthcheck of a service that writes a ready file checks that it names a running process."""
    ready = environment(service).get("LLMB_READY_FILE")
    if ready is None:
        return [f"compose service {name}: LLMB_READY_FILE is not set, so its healthcheck has no ready file"]
    check = healthcheck_shell(service)
    if probe_command(ready) not in check:
        return [
            f"compose service {name}: the healthcheck must check that {ready} names a running process "
            "(shared/readiness.py probe_command), not only that it exists"
        ]
    return []


def healthcheck_shell(service: Obj) -> str:
    """The shell command a CMD-SHELL healthcheck runs, after compose's interpolation ($$ is $)."""
    test = service.get("healthcheck", {}).get("test", [])
    words = [test] if isinstance(test, str) else [str(w) for w in test]
    return " ".join(words[1:] if words[:1] == ["CMD-SHELL"] else words).replace("$$", "$")


def api_problems(name: str, service: Obj) -> list[str]:
    """An API service requires keys and answers the Hosts of its health check and of the host's clients."""
    env = environment(service)
    if name != "api" and "LLMB_API_BIND" not in env:
        return []
    problems = []
    if bind_host(env.get("LLMB_API_BIND", "127.0.0.1:8000")) not in LOOPBACK and env.get("LLMB_AUTH") != "on":
        problems.append(
            f"compose service {name}: LLMB_AUTH is {env.get('LLMB_AUTH', 'unset')}, not on: "
            "an API bound beyond loopback must require keys"
        )
    if not REQUIRED.search(env.get("LLMB_ADMIN_KEY", "")):
        problems.append(
            f"compose service {name}: LLMB_ADMIN_KEY is not ${{LLMB_ADMIN_KEY:?...}} from docker/.env"
        )
    check = " ".join(command(service.get("healthcheck", {}), key="test"))
    callers = [("its healthcheck", urlsplit(u).netloc) for u in URL.findall(check)]
    callers.append(("the host (published port)", HOST_CLIENT))
    trusted = trusted_hosts(env)
    problems += [
        f"compose service {name}: {p}" for who, host in callers if (p := host_problem(who, host, trusted))
    ]
    return problems


def _health_file_problems(name: str, service: Obj) -> list[str]:
    env = environment(service)
    check = " ".join(command(service.get("healthcheck", {}), key="test"))
    return [
        f"compose service {name}: the healthcheck does not read {setting} ({env.get(setting)})"
        for setting in ("LLMB_READY_FILE", "LLMB_ALIVE_FILE")
        if setting not in env or env[setting] not in check
    ]


def _runner_problems(services: dict[str, Obj]) -> list[str]:
    """One service runs the batch runner, from the API's image, never scaled (it runs alone)."""
    runners = [name for name, svc in services.items() if command(svc) == BATCH_RUNNER]
    if len(runners) != 1:
        return [f"compose: {len(runners)} services run {' '.join(BATCH_RUNNER)}, not one"]
    runner = services[runners[0]]
    problems = []
    if runner.get("image") != services.get("api", {}).get("image"):
        problems.append(f"compose service {runners[0]}: image {runner.get('image')} is not the API's")
    if runner.get("deploy", {}).get("replicas", 1) != 1:
        problems.append(f"compose service {runners[0]}: more than one replica; the runner runs alone")
    return problems


def _worker_problems(worker: Obj) -> list[str]:
    env = environment(worker)
    problems: list[str] = []
    limit = int(env.get("LLMB_JOB_TIME_LIMIT_S", Settings.model_fields["job_time_limit_s"].default))
    hard = Settings.model_construct(job_time_limit_s=limit).hard_time_limit_s
    grace = seconds(str(worker.get("stop_grace_period", "10s")))
    if grace <= hard:
        problems.append(
            f"compose service worker: stop_grace_period {grace} s is not above the hard limit {hard} s"
        )
    return problems


def environment(service: Obj) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as KEY=VALUE lines."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def command(service: Obj, *, key: str = "command") -> list[str]:
    """A service's command (or healthcheck test) as a list of words."""
    value = service.get(key, [])
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def seconds(duration: str) -> int:
    """A compose duration such as `12m` or `1m30s` in seconds."""
    return sum(int(n) * SECONDS[unit] for n, unit in DURATION.findall(duration))


def env_items(compose: Obj) -> Iterator[tuple[str, str, str]]:
    """(service, name, value) for every environment entry in the file."""
    for name, svc in compose.get("services", {}).items():
        for key, value in environment(svc).items():
            yield name, key, value
