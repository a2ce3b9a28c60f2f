"""Static checks of the images and of docker/compose.yaml: no daemon needed."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.k8s.cluster_policies import unknown_settings
from tests.k8s.compose_policy import compose_problems, env_items, environment
from tests.k8s.dockerfiles import (
    DOCKER,
    DOCKERFILES,
    copy_sources,
    env_names,
    final_stage,
    ignore_patterns,
    ignored,
    instructions,
    pinned_version,
    requirement_names,
)
from tests.k8s.manifests import REPO, Obj, load_compose

MODEL_LIBRARIES = {"torch", "diffusers", "transformers", "sentence-transformers", "accelerate"}
IDS = [d.name for d in DOCKERFILES]


def test_the_three_images_exist() -> None:
    assert {d.name for d in DOCKERFILES} == {
        "api.Dockerfile",
        "worker-cpu.Dockerfile",
        "worker-cuda.Dockerfile",
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_copied_paths_exist_in_the_context(dockerfile: Path) -> None:
    sources = copy_sources(dockerfile)
    assert sources
    assert [s for s in sources if not (REPO / s).exists()] == []
    assert [s for s in sources if ignored(s, ignore_patterns())] == []


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_final_stage_runs_as_a_numeric_non_root_user(dockerfile: Path) -> None:
    users = [args for keyword, args in final_stage(dockerfile) if keyword == "USER"]
    assert users, "no USER in the final stage"
    uid = users[-1].split(":")[0]
    # Kubernetes can verify runAsNonRoot only for a numeric user.
    assert uid.isdigit(), f"USER {users[-1]} is not numeric"
    assert int(uid) != 0


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_env_uses_only_known_settings(dockerfile: Path) -> None:
    assert unknown_settings((dockerfile.name, n) for n in env_names(dockerfile)) == []


def test_api_requirements_hold_no_model_library() -> None:
    names = requirement_names(REPO / "requirements" / "api.txt")
    assert "flask" in names
    assert "celery" in names
    assert names & MODEL_LIBRARIES == set()


def test_api_image_installs_the_api_requirements_only() -> None:
    steps = instructions(DOCKER / "api.Dockerfile")
    installs = [args for keyword, args in steps if keyword == "RUN" and "pip install" in args]
    assert installs
    assert all(re.findall(r"-r (\S+)", a) == ["/tmp/requirements/api.txt"] for a in installs)
    copied = copy_sources(DOCKER / "api.Dockerfile")
    assert not [s for s in copied if s.startswith("worker") or s.endswith("worker.txt")]


def test_cpu_worker_installs_cpu_torch_before_the_requirements() -> None:
    steps = instructions(DOCKER / "worker-cpu.Dockerfile")
    runs = [args for keyword, args in steps if keyword == "RUN"]
    pin = pinned_version(REPO / "requirements" / "worker.txt", "torch")
    # The index is a build argument (for mirrors and offline builds), by default PyTorch's CPU index.
    index_arg = next(
        args for keyword, args in steps if keyword == "ARG" and args.startswith("TORCH_INDEX_URL=")
    )
    assert index_arg == "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu"
    torch_step = next(i for i, a in enumerate(runs) if '--index-url "${TORCH_INDEX_URL}"' in a)
    assert f"torch=={pin}" in runs[torch_step]
    requirements_step = next(i for i, a in enumerate(runs) if "worker.txt" in a)
    assert torch_step < requirements_step
    assert any("worker.tinymodels --out /opt/llmb/models" in a and "BAKE_MODELS" in a for a in runs)


def test_the_cpu_worker_base_image_is_a_build_argument() -> None:
    steps = instructions(DOCKER / "worker-cpu.Dockerfile")
    assert ("ARG", "BASE_IMAGE=python:3.11-slim") in steps
    assert [args for keyword, args in steps if keyword == "FROM"] == [
        "${BASE_IMAGE} AS build",
        "${BASE_IMAGE}",
    ]


def test_cuda_worker_base_matches_the_torch_pin() -> None:
    pin = pinned_version(REPO / "requirements" / "worker.txt", "torch")
    steps = instructions(DOCKER / "worker-cuda.Dockerfile")
    base = next(args for keyword, args in steps if keyword == "ARG" and args.startswith("BASE_IMAGE="))
    assert f"pytorch/pytorch:{pin}-cuda" in base
    assert base.endswith("-runtime")


@pytest.mark.parametrize(
    "path",
    [".venv", "var/models/tiny-sd", ".git/config", "tests/k8s", "docker/.env", "api/__pycache__/x.pyc"],
)
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert ignored(path, ignore_patterns())


def test_compose_keeps_the_policy() -> None:
    assert compose_problems(load_compose()) == []


def test_compose_serves_presigned_urls_to_the_host() -> None:
    compose = load_compose()
    api = environment(compose["services"]["api"])
    assert api["LLMB_STORAGE"] == "s3"
    assert api["LLMB_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert api["LLMB_S3_PUBLIC_URL"] == "http://localhost:9000"
    assert "9000:9000" in compose["services"]["minio"]["ports"]


def test_compose_api_requires_keys_from_docker_env() -> None:
    api = environment(load_compose()["services"]["api"])
    assert api["LLMB_AUTH"] == "on"
    assert api["LLMB_ADMIN_KEY"].startswith("${LLMB_ADMIN_KEY:?")


def test_env_example_has_placeholders_only() -> None:
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    compose_vars = {v for _, _, value in env_items(load_compose()) for v in re.findall(r"\$\{(\w+)", value)}
    assert compose_vars <= set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert "change-me" in example


def _set_env(service: str, key: str, value: str) -> Callable[[Obj], None]:
    def breakage(compose: Obj) -> None:
        compose["services"][service]["environment"][key] = value

    return breakage


def _drop_env(service: str, key: str) -> Callable[[Obj], None]:
    def breakage(compose: Obj) -> None:
        del compose["services"][service]["environment"][key]

    return breakage


def _health_on_container_name(compose: Obj) -> None:
    test = compose["services"]["api"]["healthcheck"]["test"]
    test[-1] = test[-1].replace("127.0.0.1", "llmb-api-1")


def _redis_evicts(compose: Obj) -> None:
    args = compose["services"]["redis"]["command"]
    args[args.index("--maxmemory-policy") + 1] = "allkeys-lru"


def _file_only_health(service: str) -> Callable[[Obj], None]:
    def breakage(compose: Obj) -> None:
        test = compose["services"][service]["healthcheck"]["test"]
        test[-1] = "test -f /run/llmb/ready && " + test[-1].split(" ] && ", 2)[-1]

    return breakage


def _short_grace(compose: Obj) -> None:
    compose["services"]["worker"]["stop_grace_period"] = "30s"


def _drop_service(service: str) -> Callable[[Obj], None]:
    def breakage(compose: Obj) -> None:
        del compose["services"][service]

    return breakage


def _runner_command(module: str) -> Callable[[Obj], None]:
    def breakage(compose: Obj) -> None:
        compose["services"]["batches"]["command"] = ["python", "-m", module]

    return breakage


def _runner_image(compose: Obj) -> None:
    compose["services"]["batches"]["image"] = "llmb-worker-cpu:dev"


def _runner_replicas(compose: Obj) -> None:
    compose["services"]["batches"]["deploy"] = {"replicas": 2}


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        pytest.param(
            _set_env("api", "LLMB_REDIS_URI", "redis://redis:6379/0"), "LLMB_REDIS_URI", id="unknown"
        ),
        pytest.param(_set_env("worker", "LLMB_S3_SECRET_KEY", "minio123"), "literal credential", id="secret"),
        pytest.param(_redis_evicts, "--maxmemory-policy noeviction", id="eviction"),
        pytest.param(_set_env("api", "LLMB_AUTH", "off"), "LLMB_AUTH is off, not on", id="auth-off"),
        pytest.param(_drop_env("api", "LLMB_AUTH"), "LLMB_AUTH is unset, not on", id="auth-unset"),
        pytest.param(
            _set_env("api", "LLMB_ADMIN_KEY", "llmb_abcdefabcdef_secret"),
            "literal credential",
            id="admin-key",
        ),
        pytest.param(
            _set_env("api", "LLMB_ADMIN_KEY", "${LLMB_ADMIN_KEY}"), "may be empty", id="admin-key-optional"
        ),
        pytest.param(_drop_env("api", "LLMB_ADMIN_KEY"), "LLMB_ADMIN_KEY is not", id="no-admin-key"),
        pytest.param(
            _set_env("api", "LLMB_ALLOWED_HOSTS", "localhost"),
            "its healthcheck sends Host 127.0.0.1:8000",
            id="health-host",
        ),
        pytest.param(
            _health_on_container_name, "its healthcheck sends Host llmb-api-1:8000", id="health-url"
        ),
        pytest.param(
            _set_env("api", "LLMB_ALLOWED_HOSTS", "127.0.0.1"),
            "the host (published port) sends Host localhost:8000",
            id="host-clients",
        ),
        pytest.param(_short_grace, "stop_grace_period 30 s", id="grace"),
        pytest.param(
            _file_only_health("worker"),
            "service worker: the healthcheck must check that /run/llmb/ready names a running process",
            id="worker-ready-file-only",
        ),
        pytest.param(
            _file_only_health("webhooks"),
            "service webhooks: the healthcheck must check that /run/llmb/ready names a running process",
            id="webhooks-ready-file-only",
        ),
        pytest.param(
            _drop_env("webhooks", "LLMB_READY_FILE"), "its healthcheck has no ready file", id="no-ready-file"
        ),
        pytest.param(_drop_service("batches"), "compose: no service batches", id="no-runner"),
        pytest.param(_drop_service("batches"), "0 services run python -m api.batches", id="runner-gone"),
        pytest.param(_runner_command("webhooks"), "0 services run python -m api.batches", id="runner-other"),
        pytest.param(
            _set_env("batches", "LLMB_ALIVE_FILE", "/run/llmb/heartbeat"),
            "compose service batches: the healthcheck does not read LLMB_ALIVE_FILE",
            id="runner-health",
        ),
        pytest.param(_runner_image, "image llmb-worker-cpu:dev is not the API's", id="runner-image"),
        pytest.param(_runner_replicas, "more than one replica", id="runner-replicas"),
    ],
)
def test_compose_policy_reports_breakage(breakage: Callable[[Obj], None], expected: str) -> None:
    compose = copy.deepcopy(load_compose())
    breakage(compose)
    problems = compose_problems(compose)
    assert any(expected in p for p in problems), problems
