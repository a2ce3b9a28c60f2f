"""Request plumbing: each concern parsed in one module; business code announces, api/metrics.py observes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask.testing import FlaskClient

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
            if re.search(rf"request\.headers\.get\(\s*\"{re.escape(name)}\"", text):
                readers[name].add(str(path.relative_to(API)))

    assert readers == {name: {module} for name, module in READ_IN.items()}
