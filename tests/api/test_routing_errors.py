"""Issue 18 item 14: routing errors under OpenAI's paths answer in OpenAI's shape; every 405 says Allow."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.api.conftest import AppFor

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JOB = "0f8fad5b-d9cb-469f-a165-70867728950e"
OPENAI = ("/v1/chat/", "/v1/embeddings", "/v1/images/", "/v1/models", "/v1/responses", "/v1/completions")


def _paths(app: Flask) -> dict[str, set[str]]:
    """Each route's path (parameters filled in) and the methods its rules take."""
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<int:[^>]+>", "0", re.sub(r"<(?:string:)?job_id>", JOB, rule.rule))
        path = re.sub(r"<[^>]+>", "abcdefabcdef", path)
        paths.setdefault(path, set()).update(rule.methods or ())
    return paths


def test_every_405_carries_allow_and_the_shape_of_its_path(app_for: AppFor) -> None:
    app = app_for()
    client = app.test_client()
    seen = 0
    for path, methods in _paths(app).items():
        for method in set(METHODS) - methods:
            response = client.open(path, method=method)
            assert response.status_code == 405, (method, path, response.status_code)
            allowed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert allowed == methods, (method, path)
            body = response.get_json()
            if path.startswith(OPENAI):
                assert response.mimetype == "application/json"
                assert body["error"]["type"] == "invalid_request_error", (method, path, body)
                assert body["error"]["message"] == f"Invalid URL ({method} {path})"
            else:
                assert response.mimetype == "application/problem+json"
                assert body["status"] == 405
            seen += 1
    assert seen > 40


@pytest.mark.parametrize(
    "path",
    ["/v1/chat/nothing", "/v1/responses", "/v1/completions", "/v1/audio/speech", "/v1/fine_tuning", "/v1/"],
)
def test_a_404_under_openai_s_paths_is_in_openai_s_shape(app_for: AppFor, path: str) -> None:
    response = app_for().test_client().post(path, json={})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["message"] == f"Invalid URL (POST {path})"


@pytest.mark.parametrize("path", ["/v1/jobs/a/b/c", "/v1/keys/a/b", "/nothing", "/v1/queues/x"])
def test_a_404_elsewhere_stays_problem_json(app_for: AppFor, path: str) -> None:
    response = app_for().test_client().get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "path", ["/v1/jobs?limt=5", f"/v1/jobs/{JOB}?wiat=1", f"/v1/jobs/{JOB}/events?=1", "/v1/keys?tenant=a&x="]
)
def test_a_route_with_query_parameters_refuses_one_it_does_not_know(app_for: AppFor, path: str) -> None:
    # The fuzzer found them ignored, so a misspelt ?limt=5 answered as if it were not there.
    response = app_for().test_client().get(path)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"][0]["field"] in ("limt", "wiat", "", "x")


def test_a_route_without_query_parameters_ignores_them(app_for: AppFor) -> None:
    assert app_for().test_client().get("/health?_=1733412345").status_code == 200
