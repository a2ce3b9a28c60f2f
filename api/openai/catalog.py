"""/v1/models: the models this deployment serves (LLMB_OPENAI_MODELS), and which one a request names."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response

from api.openai.errors import TAGS, UnknownModelError, answers
from api.operations import operation
from api.services import services
from shared.auth import Scope
from shared.demo import demo_types, model_note
from shared.settings import OpenAIModel, Settings
from shared.vocabulary import JobType

bp = Blueprint("models", __name__, url_prefix="/models")

_ROUTES = {JobType.CHAT: "/v1/chat/completions", JobType.EMBED: "/v1/embeddings", JobType.IMAGE: "/v1/images"}


def find_model(settings: Settings, model_id: str | None, job_type: JobType) -> OpenAIModel:
    """The served model of `job_type` named `model_id` (None: the first of that type); 404 otherwise."""
    of_type = [m for m in settings.served_models if m.type == job_type]
    if model_id is None and of_type:
        return of_type[0]
    found = next((m for m in settings.served_models if m.id == model_id), None)
    if found is None:
        served = ", ".join(m.id for m in of_type) or "none"
        named = f"the model {model_id!r} does not exist here" if model_id else "no model was named"
        raise UnknownModelError(f"{named}; {job_type} models: {served}")
    if found.type != job_type:
        raise UnknownModelError(
            f"{found.id} runs {found.type} jobs, which {_ROUTES[job_type]} does not take: "
            f"use {_ROUTES[found.type]}"
        )
    return found


def _view(model: OpenAIModel) -> dict[str, Any]:
    """A model as OpenAI lists it, with its job type (and, for a random-weight demo, a note) as extensions."""
    view: dict[str, Any] = {"id": model.id, "object": "model", "created": 0, "owned_by": "llmb"}
    view["job_type"] = model.type.value
    if model.dimensions:
        view["dimensions"] = model.dimensions
    settings = services().settings
    if model.type in demo_types(settings):
        view["demo"] = True
        view["note"] = model_note(model.id, model.type)
    return view


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), mimetype="application/json")


@operation(
    bp.get(""),
    answers("the models, as OpenAI lists them", 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    tags=TAGS,
)
def list_models() -> Response:
    """The models this deployment serves, each with its job type (OpenAI's list of models)."""
    models = services().settings.served_models
    return _json({"object": "list", "data": [_view(m) for m in models]})


@operation(
    bp.get("/<path:model_id>"),
    answers("the model", 404, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    tags=TAGS,
)
def get_model(model_id: str) -> Response:
    """One model by id; 404 in OpenAI's shape for a model this deployment does not serve."""
    found = next((m for m in services().settings.served_models if m.id == model_id), None)
    if found is None:
        raise UnknownModelError(f"the model {model_id!r} does not exist here")
    return _json(_view(found))
