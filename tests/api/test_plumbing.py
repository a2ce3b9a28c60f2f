"""Request plumbing: each concern parsed in one module; business code announces, api/metrics.py observes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask import Blueprint, Response
from flask.testing import FlaskClient

from api import create_app
from api.auth import scopes_of
from api.keys import KeyCreate
from api.operations import BODY_PROBLEMS, operation
from api.spec import ATTRIBUTE, Answer
from shared.auth import Scope
from shared.settings import Settings
from tests.api.test_metrics import IMAGE, sample

API = Path(__file__).resolve().parents[2] / "api"
WIRES_METRICS = {"app.py", "metrics.py"}  # the factory registers it; the module is itself


def _imports(path: Path) -> set[str]:
    """The modules a file imports, `from api import metrics` spelt api.metrics."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def test_no_api_module_but_the_app_factory_imports_the_metrics() -> None:
    modules = sorted(API.rglob("*.py"))
    assert len(modules) > 30  # the walk found the package

    reaching = [
        str(p.relative_to(API))
        for p in modules
        if str(p.relative_to(API)) not in WIRES_METRICS and "api.metrics" in _imports(p)
    ]

    assert reaching == []


def test_a_submission_is_announced_and_counted_by_its_type(client: FlaskClient) -> None:
    before = sample(client, "llmb_jobs_submitted_total", type="image")

    for _ in range(2):
        assert client.post("/v1/jobs", json=IMAGE).status_code == 202

    assert sample(client, "llmb_jobs_submitted_total", type="image") == before + 2


# Each header a request carries is read in one module only (the views take what it parsed).
READ_IN = {
    "Idempotency-Key": "headers.py",
    "Cancel-After": "headers.py",
    "traceparent": "headers.py",
    "Prefer": "waiting.py",
    "Authorization": "auth.py",
}


def test_each_request_header_is_read_in_one_module() -> None:
    readers: dict[str, set[str]] = {name: set() for name in READ_IN}
    for path in API.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in READ_IN:
            name_ = re.escape(name)
            reads = rf'request\.headers(\.get\(\s*|\[)"{name_}"|"{name_}" in request\.headers'
            if re.search(reads, text):
                readers[name].add(str(path.relative_to(API)))

    assert readers == {name: {module} for name, module in READ_IN.items()}


def test_every_view_that_takes_a_body_documents_what_reading_it_can_answer(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    with_body = [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    ]
    assert {path for path, _, _ in with_body} >= {"/v1/jobs", "/v1/keys", "/model/generate"}

    for path, method, op in with_body:
        missing = {str(s) for s in BODY_PROBLEMS} - set(op["responses"])
        assert missing == set(), f"{method.upper()} {path} lacks {sorted(missing)}"


def test_a_declared_view_is_routed_scoped_documented_and_handed_its_parsed_body(settings: Settings) -> None:
    seen: list[object] = []
    bp = Blueprint("declared", __name__)

    @operation(bp.post("/declared/<name>"), {200: Answer("ok")}, scopes=(Scope.JOBS_WRITE,), body=KeyCreate)
    def declared(body: KeyCreate, name: str) -> Response:
        """A view for this test."""
        seen.append((body, name))
        return Response("ok")

    app = create_app(settings)
    app.register_blueprint(bp)
    try:
        answer = app.test_client().post(
            "/declared/x", json={"name": "n", "tenant": "t", "scopes": ["jobs:read"]}
        )
        refused = app.test_client().post("/declared/x", json={"name": 5})
    finally:
        app.extensions["llmb"].close()

    assert answer.status_code == 200, answer.get_json()
    assert seen == [(KeyCreate(name="n", tenant="t", scopes=[Scope.JOBS_READ]), "x")]
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "name"
    assert scopes_of(app.view_functions["declared.declared"]) == (Scope.JOBS_WRITE,)
    op = getattr(app.view_functions["declared.declared"], ATTRIBUTE)
    assert op.body == "KeyCreate"
    assert set(BODY_PROBLEMS) <= set(op.problems)
