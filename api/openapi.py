"""The OpenAPI 3.1 document, built from the app's routes, their docstrings and `@documented`, and /docs.

apispec assembles the document and turns Flask rules into paths; the schemas come from the pydantic
wire types, with every cap written in from the running settings' `Limits`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from api.auth import public, scopes_of
from api.keys import KeyCreate, KeyList, KeyView
from api.openai.errors import ERROR as OPENAI_ERROR
from api.openai.errors import TAGS as OPENAI_TAGS
from api.schemas import JobCreate, JobList, LegacyGenerate, Problem, QueuesView
from api.services import services
from api.spec import ATTRIBUTE, Answer, Operation
from api.usage import UsageReport
from api.webhooks import WebhookAttempts, WebhookSecret
from shared.auth import Scope
from shared.caps import apply_caps
from shared.settings import Settings
from shared.views import JobView

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
PATH_PARAMS = {"job_id": "the job's id", "index": "which result file, counting from 0"}
PATH_PARAMS |= {"file_id": "the file's id", "batch_id": "the batch's id"}
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key, `llmb_<id>_<secret>` (needed unless the API runs with LLMB_AUTH=off).",
}
_TITLES = {
    "jobs": "Jobs",
    "events": "Jobs",
    "results": "Jobs",
    "ops": "Operations",
    "legacy": "Original backend",
}


def _schemas() -> dict[str, Any]:
    """Every component schema, caps still marked (see shared.caps)."""
    models: list[type[BaseModel]] = [LegacyGenerate, JobView, JobList, QueuesView, Problem]
    models += [KeyCreate, KeyView, KeyList, WebhookAttempts, WebhookSecret, UsageReport]
    pairs = [(m, "validation") for m in models]
    _, defs = models_json_schema(pairs, ref_template=REF)  # type: ignore[arg-type]
    schemas = dict(defs.get("$defs", {}))
    create = TypeAdapter(JobCreate).json_schema(ref_template=REF)
    schemas.update(create.pop("$defs", {}))
    schemas["JobCreate"] = {"description": "Body of POST /v1/jobs: a job of one type.", **create}
    return schemas


def _content(content: dict[str, str | None]) -> dict[str, Any]:
    return {
        media: {
            "schema": {"$ref": REF.format(model=name)} if name else {"type": "string", "format": "binary"}
        }
        for media, name in content.items()
    }


def _answer(answer: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    if answer.content:
        out["content"] = _content(answer.content)
    if answer.headers:
        out["headers"] = {
            name: {"description": d, "schema": {"type": "string"}} for name, d in answer.headers.items()
        }
    return out


def _responses(op: Operation, scopes: tuple[Scope, ...]) -> dict[str, Any]:
    refusals = {401, 403} if scopes else set()
    if any(p.where == "query" for p in op.params):  # api/guards.py:check_query refuses unknown ones
        refusals |= {422}
    problem = {"description": "problem", "content": _content({"application/problem+json": "Problem"})}
    answers = {str(s): _answer(a) for s, a in op.answers.items()}
    if OPENAI_TAGS[0] in op.tags:  # its refusals come in OpenAI's shape, as its other errors
        return answers | {str(s): _answer(Answer(OPENAI_ERROR)) for s in sorted(refusals)}
    return answers | {str(s): problem for s in sorted(set(op.problems) | refusals)}


def _parameters(op: Operation, rule: Rule) -> list[dict[str, Any]]:
    path = [
        {
            "name": a,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0} if a == "index" else {"type": "string"},
            "description": PATH_PARAMS.get(a, a),
        }
        for a in sorted(rule.arguments)
    ]
    fields = [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required,
            "schema": p.schema,
            "description": p.description,
        }
        for p in op.params
    ]
    return path + fields


def _operation(view: Any, op: Operation, rule: Rule, *, auth: bool) -> dict[str, Any]:
    summary, _, rest = (view.__doc__ or "").strip().partition("\n")
    scopes = scopes_of(view) if auth else ()
    out: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": summary,
        "tags": list(op.tags) or [_TITLES.get(rule.endpoint.split(".")[0], "API")],
        "responses": _responses(op, scopes),
        # A public operation needs no key; the others need a key with one of these scopes.
        "security": [{"bearer": []}] if scopes else [],
    }
    if scopes:
        out["x-scopes"] = [s.value for s in scopes]
    if rest.strip():
        out["description"] = " ".join(rest.split())
    if params := _parameters(op, rule):
        out["parameters"] = params
    if op.body:
        out["requestBody"] = {"required": True, "content": _content({"application/json": op.body})}
    return out


def document(app: Flask, settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this app's documented routes, under its settings (caps, auth on or off)."""
    from apispec import APISpec
    from apispec_webframeworks.flask import FlaskPlugin

    spec = APISpec(
        title="LLM Backend",
        version="1",
        openapi_version="3.1.0",
        plugins=[FlaskPlugin()],
        info={"description": "Generative models as asynchronous jobs."},
    )
    spec.components.security_scheme("bearer", BEARER)
    for name, schema in _schemas().items():
        spec.components.schema(name, schema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        op = getattr(view, ATTRIBUTE, None)
        if op is not None:
            methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
            spec.path(
                view=view,
                app=app,
                operations={
                    m.lower(): _operation(view, op, rule, auth=settings.auth_enabled) for m in methods
                },
            )
    filled: dict[str, Any] = apply_caps(spec.to_dict(), settings.limits)
    return filled


@cache
def _document_json(app: Flask, settings: Settings) -> bytes:
    return current_app.json.dumps(document(app, settings)).encode()


@bp.get("/openapi.json")
@public
def openapi_json() -> Response:
    """This document."""
    body = _document_json(current_app._get_current_object(), services().settings)  # type: ignore[attr-defined]
    return Response(body, mimetype="application/json")


@bp.get("/docs")
@bp.get("/docs/")
@public
def docs() -> Response:
    """A viewer for this document."""
    page = resources.files("api").joinpath("static/docs.html").read_text()
    return Response(page, mimetype="text/html", headers={"Content-Security-Policy": DOCS_CSP})


# Swagger UI from this origin only: its own stylesheet sets inline styles and data: icons; it calls
# this API only ("Try it out"), and nothing may frame the page.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
