"""Issue 18 item 5: JSON nested deeper than any real body is a 400 naming the problem, on every route."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from api.openapi import document
from shared.settings import load_settings
from tests.api.conftest import AppFor

OPENAI = "OpenAI-compatible"  # their bodies are read in OpenAI's loose format, not documented as schemas
# The upload route reads a multipart form, not JSON.
NOT_JSON = {("post", "/v1/files")}


def _operations_with_a_body() -> list[tuple[str, str]]:
    from api import create_app

    settings = load_settings()
    app: Flask = create_app(settings)
    try:
        paths = document(app, settings)["paths"].items()
        reads = [
            (m, p, "requestBody" in op or (m == "post" and OPENAI in op["tags"] and "{" not in p))
            for p, ops in paths
            for m, op in ops.items()
        ]
        return [(m, p) for m, p, body in reads if body and (m, p) not in NOT_JSON]
    finally:
        app.extensions["llmb"].close()


OPERATIONS = _operations_with_a_body()


def test_every_route_that_reads_json_is_here() -> None:
    assert {("post", "/v1/jobs"), ("post", "/v1/chat/completions"), ("post", "/v1/keys")} <= set(OPERATIONS)


@pytest.mark.parametrize("depth", [250, 100_000])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_deeply_nested_body_is_400_naming_the_nesting(
    app_for: AppFor, method: str, path: str, depth: int
) -> None:
    client = app_for().test_client()
    url = re.sub(r"\{[^}]+\}", "0f8fad5b-d9cb-469f-a165-70867728950e", path)
    body = '{"type": "chat", "input": ' + "[" * depth + "]" * depth + "}"
    response = client.open(url, method=method, data=body, content_type="application/json")
    answer = response.get_json()
    assert response.status_code == 400, answer
    error = answer.get("error") or answer  # OpenAI's shape under /v1/<openai>, problem+json elsewhere
    text = error.get("detail") or error.get("message")
    assert "nested too deeply" in text
