"""Every kustomization renders, and every object it renders validates offline."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.k8s.manifests import KEDA_SCHEMAS, KUSTOMIZATIONS, Obj, one
from tests.k8s.validation import KEDA_API, builtin_problem, keda_problem

REPO = Path(__file__).resolve().parents[2]
NAMES = list(KUSTOMIZATIONS)
# What the scaling simulation and `make status` read by name.
CONTRACT_NAMES = [
    ("Deployment", "llmb-api"),
    ("Service", "llmb-api"),
    ("HorizontalPodAutoscaler", "llmb-api"),
    ("Deployment", "llmb-batches"),
    ("NetworkPolicy", "llmb-batches-egress"),
    *[
        (kind, f"llmb-worker-{q}")
        for q in ("image", "chat", "embed")
        for kind in ("Deployment", "ScaledObject")
    ],
]


@pytest.mark.parametrize("name", NAMES)
def test_renders_into_one_namespace(rendered: dict[str, list[Obj]], name: str) -> None:
    objects = rendered[name]
    assert objects
    namespaced = [o for o in objects if o["kind"] != "Namespace"]
    assert {o["metadata"].get("namespace") for o in namespaced} == {"llmb"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("kind", "object_name"), CONTRACT_NAMES)
def test_keeps_the_names_others_rely_on(
    rendered: dict[str, list[Obj]], name: str, kind: str, object_name: str
) -> None:
    named = [o for o in rendered[name] if (o["kind"], o["metadata"]["name"]) == (kind, object_name)]
    assert len(named) == 1, f"{name} renders {len(named)} {kind} named {object_name}"


@pytest.mark.parametrize("name", NAMES)
def test_the_deployments_make_deploy_waits_for_exist(rendered: dict[str, list[Obj]], name: str) -> None:
    script = (REPO / "deploy" / "minikube.sh").read_text()
    waited = re.search(r"for deployment in ([\w\- ]+);", script)
    assert waited is not None
    deployments = {o["metadata"]["name"] for o in rendered[name] if o["kind"] == "Deployment"}
    assert set(waited.group(1).split()) <= deployments


@pytest.mark.parametrize("name", NAMES)
def test_builtin_objects_validate_strictly(rendered: dict[str, list[Obj]], name: str) -> None:
    problems = [builtin_problem(o) for o in rendered[name] if o["apiVersion"] != KEDA_API]
    assert [p for p in problems if p] == []


def test_keda_schemas_are_beside_the_repo() -> None:
    assert KEDA_SCHEMAS.is_dir(), f"{KEDA_SCHEMAS} is missing: the KEDA CRD schemas live in ../shared"


@pytest.mark.parametrize("name", NAMES)
def test_keda_objects_validate_against_the_crds(rendered: dict[str, list[Obj]], name: str) -> None:
    keda = [o for o in rendered[name] if o["apiVersion"] == KEDA_API]
    kinds = sorted(o["kind"] for o in keda)
    assert kinds == ["ScaledObject"] * 3 + ["TriggerAuthentication"]
    assert [p for p in map(keda_problem, keda) if p] == []


def _misspell_probe(objects: list[Obj]) -> Obj:
    deployment = one(objects, "Deployment", "llmb-api")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    return deployment


def _misspell_min_replicas(objects: list[Obj]) -> Obj:
    scaled_object = one(objects, "ScaledObject", "llmb-worker-image")
    scaled_object["spec"]["minReplicas"] = scaled_object["spec"].pop("minReplicaCount")
    return scaled_object


def _number_as_target(objects: list[Obj]) -> Obj:
    scaled_object = one(objects, "ScaledObject", "llmb-worker-chat")
    scaled_object["spec"]["triggers"][0]["metadata"]["targetValue"] = 4
    return scaled_object


def _misspell_secret_ref(objects: list[Obj]) -> Obj:
    (auth,) = [o for o in objects if o["kind"] == "TriggerAuthentication"]
    auth["spec"]["secretTargetRefs"] = auth["spec"].pop("secretTargetRef")
    return auth


def _secret_ref_without_parameter(objects: list[Obj]) -> Obj:
    (auth,) = [o for o in objects if o["kind"] == "TriggerAuthentication"]
    del auth["spec"]["secretTargetRef"][0]["parameter"]
    return auth


def _auth_ref_to_unknown_kind(objects: list[Obj]) -> Obj:
    scaled_object = one(objects, "ScaledObject", "llmb-worker-embed")
    scaled_object["spec"]["triggers"][0]["authenticationRef"]["kind"] = "Secret"
    return scaled_object


@pytest.mark.parametrize(
    ("breakage", "check", "expected"),
    [
        pytest.param(_misspell_probe, builtin_problem, "livenesProbe", id="typo-in-deployment"),
        pytest.param(_misspell_min_replicas, keda_problem, "minReplicas", id="typo-in-scaledobject"),
        pytest.param(
            _number_as_target, keda_problem, "is not of type 'string'", id="keda-metadata-not-string"
        ),
        pytest.param(
            _misspell_secret_ref, keda_problem, "secretTargetRefs", id="typo-in-triggerauthentication"
        ),
        pytest.param(
            _secret_ref_without_parameter,
            keda_problem,
            "'parameter' is a required",
            id="secret-ref-no-parameter",
        ),
        pytest.param(_auth_ref_to_unknown_kind, keda_problem, "'Secret' is not one of", id="auth-ref-kind"),
    ],
)
def test_validation_catches_breakage(
    fresh: Callable[[str], list[Obj]],
    breakage: Callable[[list[Obj]], Obj],
    check: Callable[[Obj], str | None],
    expected: str,
) -> None:
    problem = check(breakage(fresh("minikube")))
    assert problem is not None
    assert expected in problem
