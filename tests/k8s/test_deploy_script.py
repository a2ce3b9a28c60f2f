"""deploy/minikube.sh agrees with the manifests (the Secrets it creates, the keys it reads) and its
curl examples, like those in docs/DEPLOYMENT.md, send a key and a JSON Content-Type."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.k8s.api_policies import api_containers, key_refs
from tests.k8s.manifests import REPO, Obj, containers, find, ref, workloads

SCRIPT = REPO / "deploy" / "minikube.sh"
DOCS = REPO / "docs" / "DEPLOYMENT.md"
CREATE = re.compile(r"create secret generic (\S+)")
LITERAL_KEY = re.compile(r"--from-literal=([\w.-]+)=")
READ_KEY = re.compile(r"get secret ([\w-]+) -o jsonpath='\{\.data\.([\w-]+)\}'")
CONTINUATION = re.compile(r"\\{1,2}\n\s*")
# curl as a command: first on its line, after a pipe, or first in a quoted (echoed) line.
CURL = re.compile(r"""(?:^\s*|\|\s*|^\s*echo\s+"\s*)curl\s""")
ROUTE = re.compile(r"/(?:v1|model|health|ready|openapi\.json|docs)\b")
# Routes that answer without a key; every other one needs `Authorization: Bearer`.
OPEN_PATHS = ("/health", "/ready", "/openapi.json", "/docs")
SecretKey = tuple[str, str]


def created_secrets(script: str) -> set[SecretKey]:
    """(Secret, key) pairs the script creates with `kubectl create secret generic`."""
    return {
        (created[1], key)
        for line in CONTINUATION.sub(" ", script).splitlines()
        if (created := CREATE.search(line))
        for key in LITERAL_KEY.findall(line)
    }


def referenced_secrets(objects: list[Obj]) -> Iterator[tuple[str, SecretKey]]:
    """(who, (Secret, key)) for every Secret key a pod or a TriggerAuthentication reads."""
    for workload in workloads(objects):
        for c in containers(workload):
            for var in c.get("env", []):
                found = (var.get("valueFrom") or {}).get("secretKeyRef")
                if found:
                    yield f"{ref(workload)} {var['name']}", (found["name"], found["key"])
    for auth in find(objects, "TriggerAuthentication"):
        for target in auth["spec"].get("secretTargetRef", []):
            yield f"{ref(auth)} {target['parameter']}", (target["name"], target["key"])


def missing_secrets(objects: list[Obj], script: str) -> list[str]:
    """Secret keys the manifests read that `make deploy` does not create."""
    created = created_secrets(script)
    return [
        f"{who} reads Secret {name} key {key}, which deploy/minikube.sh does not create"
        for who, (name, key) in referenced_secrets(objects)
        if (name, key) not in created
    ]


def curl_problems(text: str) -> list[str]:
    """Each curl command that reaches a keyed route without a key, or sends a body that is not JSON."""
    problems = []
    for line in CONTINUATION.sub(" ", text).splitlines():
        if not CURL.search(line) or not ROUTE.search(line):
            continue
        command = line.strip()
        if not any(p in command for p in OPEN_PATHS) and "Authorization: Bearer" not in command:
            problems.append(f"no key (Authorization: Bearer): {command}")
        if re.search(r"\s-d\s|--data", command) and "Content-Type: application/json" not in command:
            problems.append(f"a body without Content-Type: application/json: {command}")
    return problems


def test_make_deploy_creates_every_secret_the_minikube_overlay_reads(rendered: dict[str, list[Obj]]) -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    assert ("llmb-keys", "admin-key") in created_secrets(script)
    assert missing_secrets(rendered["minikube"], script) == []


def test_missing_secrets_notices_a_key_the_script_does_not_create(
    fresh: Callable[[str], list[Obj]],
) -> None:
    objects = fresh("minikube")
    (auth,) = find(objects, "TriggerAuthentication")
    auth["spec"]["secretTargetRef"][0]["key"] = "keda-key"
    problems = missing_secrets(objects, SCRIPT.read_text(encoding="utf-8"))
    assert problems == [
        "TriggerAuthentication/llmb-autoscaler-key token reads Secret llmb-keys key keda-key, "
        "which deploy/minikube.sh does not create"
    ]


def test_the_script_reads_the_keys_the_api_uses(rendered: dict[str, list[Obj]]) -> None:
    """`make deploy` and `make status` print how to read the API's admin key; status reads KEDA's key."""
    script = SCRIPT.read_text(encoding="utf-8")
    (_, api), *_ = api_containers(rendered["minikube"])
    refs = key_refs(api)
    read = set(READ_KEY.findall(script))
    assert refs["LLMB_ADMIN_KEY"] in read
    assert refs["LLMB_AUTOSCALER_KEY"] in read
    status = script.split("\nstatus() {", 1)[1].split("\n}\n", 1)[0]
    assert "ADMIN_KEY_COMMAND" in status
    assert "ADMIN_KEY_COMMAND" in script.split("\ndeploy() {", 1)[1].split("\n}\n", 1)[0]


@pytest.mark.parametrize("path", [SCRIPT, DOCS], ids=lambda p: p.name)
def test_curl_examples_send_a_key_and_json(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if CURL.search(line) and ROUTE.search(line)]
    assert curl_problems(text) == []


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("curl -X POST http://x/v1/jobs -H 'Content-Type: application/json' -d '{}'", "no key"),
        (
            "curl -X POST http://x/v1/jobs -H \"Authorization: Bearer $KEY\" \\\n  -d '{}'",
            "without Content-Type",
        ),
        ("curl 'http://x/v1/jobs/<id>?wait=30'", "no key"),
        ('  echo "  curl ${url}/v1/keys"', "no key"),
        ("printf x | curl -fsS -H @- ${url}/v1/queues", "no key"),
    ],
)
def test_curl_problems_notices_a_bare_example(example: str, expected: str) -> None:
    assert any(expected in p for p in curl_problems(example))
    assert curl_problems("curl http://x/health") == []
