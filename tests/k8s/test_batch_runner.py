"""The batch runner is deployed in every overlay: each way of losing it or cutting it off is noticed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.k8s.batch_policies import batch_runner_problems
from tests.k8s.manifests import KUSTOMIZATIONS, Obj, one
from tests.k8s.network_policies import network_problems
from tests.k8s.pod_policies import probe_problems, security_problems
from tests.k8s.test_policies import container, set_env

Policy = Callable[[list[Obj]], list[str]]


def runner_missing(objects: list[Obj]) -> None:
    objects.remove(one(objects, "Deployment", "llmb-batches"))


def runner_scaled_out(objects: list[Obj]) -> None:
    one(objects, "Deployment", "llmb-batches")["spec"]["replicas"] = 2


def runner_rolled(objects: list[Obj]) -> None:
    one(objects, "Deployment", "llmb-batches")["spec"]["strategy"] = {"type": "RollingUpdate"}


def runner_on_worker_image(objects: list[Obj]) -> None:
    container(objects, "Deployment", "llmb-batches")["image"] = "llmb-worker-cpu:0.1.0"


def runner_without_egress(objects: list[Obj]) -> None:
    objects.remove(one(objects, "NetworkPolicy", "llmb-batches-egress"))


def egress_without_minio(objects: list[Obj]) -> None:
    rules = one(objects, "NetworkPolicy", "llmb-batches-egress")["spec"]["egress"]
    rules[:] = [r for r in rules if "llmb-minio" not in str(r)]


def redis_closed_to_runner(objects: list[Obj]) -> None:
    (peer,) = one(objects, "NetworkPolicy", "llmb-redis")["spec"]["ingress"][0]["from"]
    peer["podSelector"]["matchExpressions"][0]["values"].remove("batches")


def minio_closed_to_runner(objects: list[Obj]) -> None:
    (peer,) = one(objects, "NetworkPolicy", "llmb-minio")["spec"]["ingress"][0]["from"]
    peer["podSelector"]["matchExpressions"][0]["values"].remove("batches")


def runner_alive_file_unread(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-batches"), "LLMB_ALIVE_FILE", "/run/llmb/heartbeat")


def runner_writable_root(objects: list[Obj]) -> None:
    container(objects, "Deployment", "llmb-batches")["securityContext"]["readOnlyRootFilesystem"] = False


def runner_asks_sentinels(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-batches"), "LLMB_REDIS_SENTINELS", "llmb-redis-0:26379")


BREAKAGES: list[tuple[Callable[[list[Obj]], None], Policy, str]] = [
    (runner_missing, batch_runner_problems, "0 Deployments run python -m api.batches"),
    (runner_scaled_out, batch_runner_problems, "must be one replica replaced with Recreate"),
    (runner_rolled, batch_runner_problems, "must be one replica replaced with Recreate"),
    (runner_on_worker_image, batch_runner_problems, "not the API's"),
    (runner_without_egress, batch_runner_problems, "no egress NetworkPolicy selects it"),
    (egress_without_minio, batch_runner_problems, "does not reach llmb-minio on port 9000"),
    (runner_asks_sentinels, batch_runner_problems, "does not reach llmb-redis on port 26379"),
    (
        redis_closed_to_runner,
        network_problems,
        "should admit exactly ['api', 'batches', 'webhooks', 'worker']",
    ),
    (
        minio_closed_to_runner,
        network_problems,
        "should admit exactly ['api', 'batches', 'minio-setup', 'worker']",
    ),
    (runner_alive_file_unread, probe_problems, "llmb-batches: livenessProbe must be an exec probe"),
    (runner_writable_root, security_problems, "llmb-batches container batches: readOnlyRootFilesystem"),
]


@pytest.mark.parametrize(
    ("breakage", "policy", "expected"), BREAKAGES, ids=[b[0].__name__ for b in BREAKAGES]
)
def test_the_policies_notice_a_lost_or_cut_off_runner(
    fresh: Callable[[str], list[Obj]], breakage: Callable[[list[Obj]], None], policy: Policy, expected: str
) -> None:
    objects = fresh("minikube")
    assert policy(objects) == []
    breakage(objects)
    problems = policy(objects)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_every_overlay_runs_the_batch_runner_beside_the_api(
    rendered: dict[str, list[Obj]], name: str
) -> None:
    runner = one(rendered[name], "Deployment", "llmb-batches")
    api = one(rendered[name], "Deployment", "llmb-api")
    main, api_main = (
        runner["spec"]["template"]["spec"]["containers"][0],
        api["spec"]["template"]["spec"]["containers"][0],
    )
    assert main["command"] == ["python", "-m", "api.batches"]
    assert main["image"] == api_main["image"]
