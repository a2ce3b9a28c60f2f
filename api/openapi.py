"""The OpenAPI 3.1 document, generated from the wire schemas, and a viewer for it at /docs."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.schemas import JobList, JobView, LegacyGenerate, QueuesView
from api.services import services
from shared.caps import apply_caps
from shared.inputs import ChatInput, EmbedInput, ImageInput
from shared.settings import Limits

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
PROBLEM: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "job_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {
            "description": "problem",
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
        for s in statuses
    }


def _job_create_schema() -> dict[str, Any]:
    variants = [
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "input"],
            "properties": {"type": {"const": kind}, "input": _ref(model)},
        }
        for kind, model in (("image", "ImageInput"), ("chat", "ChatInput"), ("embed", "EmbedInput"))
    ]
    return {"oneOf": variants}


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _paths(limits: Limits) -> dict[str, Any]:
    max_wait = limits.max_wait_s
    job_id = _path_param("job_id", {"type": "string"})
    wait = _query("wait", {"type": "integer", "minimum": 0, "maximum": max_wait}, "long-wait seconds")
    prefer = {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": f"wait=N (N <= {max_wait}) answers with the finished job if it ends within N s",
    }
    job = {"description": "the job", "content": _json("JobView")}
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/v1/jobs": {
            "post": {
                "summary": "Submit a job",
                "parameters": [prefer],
                "requestBody": {"required": True, "content": _json("JobCreate")},
                "responses": {"200": job, "202": job, **_problems(400, 413, 422, 503)},
            },
            "get": {
                "summary": "The caller's jobs, newest first",
                "parameters": [
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": limits.list_max_page},
                        "page size",
                    ),
                    _query("before", {"type": "number"}, "cursor from a `next` link"),
                ],
                "responses": {
                    "200": {"description": "a page", "content": _json("JobList")},
                    **_problems(422, 503),
                },
            },
        },
        "/v1/jobs/{job_id}": {
            "get": {
                "summary": "One job",
                "parameters": [job_id, wait],
                "responses": {"200": job, **_problems(404, 422, 503)},
            },
        },
        "/v1/jobs/{job_id}/events": {
            "get": {
                "summary": "The job's events as Server-Sent Events: status, progress, token, then done",
                "parameters": [
                    job_id,
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[0-9]+-[0-9]+$"},
                        "description": "resume after this event",
                    },
                    _query(
                        "after", {"type": "string", "pattern": "^[0-9]+-[0-9]+$"}, "resume after this event"
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "an event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **_problems(404, 422, 503),
                },
            },
        },
        "/v1/jobs/{job_id}/cancel": {
            "post": {
                "summary": "Cancel a job",
                "parameters": [job_id],
                "responses": {"200": job, **_problems(404, 409, 503)},
            },
        },
        "/v1/jobs/{job_id}/result": {
            "get": {
                "summary": "The first result file (or the JSON result)",
                "parameters": [job_id],
                "responses": {
                    "200": {
                        "description": "the result",
                        "content": {"image/png": binary, "application/json": {}},
                    },
                    "302": {"description": "redirect to a short-lived presigned URL"},
                    **_problems(404, 409, 503),
                },
            },
        },
        "/v1/jobs/{job_id}/result/{index}": {
            "get": {
                "summary": "One result file by index",
                "parameters": [job_id, _path_param("index", {"type": "integer", "minimum": 0})],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {"image/png": binary, "application/json": {}},
                    },
                    "302": {"description": "redirect to a short-lived presigned URL"},
                    **_problems(404, 409, 503),
                },
            },
        },
        "/v1/queues": {
            "get": {
                "summary": "Per-queue load (the autoscaling signal)",
                "responses": {
                    "200": {"description": "loads", "content": _json("QueuesView")},
                    **_problems(503),
                },
            },
        },
        "/model/generate": {
            "post": {
                "summary": "The original backend's synchronous text-to-image",
                "requestBody": {"required": True, "content": _json("LegacyGenerate")},
                "responses": {
                    "200": {"description": "the image", "content": {"image/png": binary}},
                    **_problems(400, 413, 422, 502, 503, 504),
                },
            },
        },
        "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": "alive"}}}},
        "/ready": {
            "get": {
                "summary": "Readiness: Redis and the object store answer",
                "responses": {"200": {"description": "ready"}, **_problems(503)},
            }
        },
    }


@cache
def document(limits: Limits) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this API."""
    inputs: list[type[BaseModel]] = [ImageInput, ChatInput, EmbedInput, LegacyGenerate]
    outputs: list[type[BaseModel]] = [JobView, JobList, QueuesView]
    pairs = [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs]
    _, defs = models_json_schema(pairs, ref_template=REF)  # type: ignore[arg-type]
    schemas = dict(defs.get("$defs", {}))
    apply_caps(schemas, limits)
    schemas["JobCreate"] = _job_create_schema()
    schemas["Problem"] = PROBLEM
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LLM Backend",
            "version": "1",
            "description": "Generative models as asynchronous jobs.",
        },
        "paths": _paths(limits),
        "components": {"schemas": schemas},
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document(services().settings.limits))


@bp.get("/docs")
def docs() -> Response:
    page = resources.files("api").joinpath("static/docs.html").read_text()
    return Response(page, mimetype="text/html")
