"""POST /v1/embeddings: an embed job answered as OpenAI's list of embedding objects, floats or base64."""

from __future__ import annotations

import base64
import struct
from typing import Any

from flask import Blueprint, Response

from api.headers import CREATE_HEADERS
from api.openai.catalog import find_model
from api.openai.errors import TAGS, WRITE_ERRORS, InvalidRequestError, answers
from api.openai.jobs import answer, finished, job_input, read_request, submit
from api.openai.schemas import EmbeddingsRequest
from api.operations import operation
from api.services import services
from shared.auth import Scope
from shared.job_record import JobRecord, JobType

bp = Blueprint("embeddings", __name__, url_prefix="/embeddings")

ROUTE = "/v1/embeddings"


@operation(
    bp.post(""),
    answers("a list of embedding objects with usage", *WRITE_ERRORS),
    scopes=(Scope.JOBS_WRITE,),
    params=CREATE_HEADERS,
    tags=TAGS,
)
def create() -> Response:
    """Vectors for a text or a list of texts, as OpenAI's list of embeddings; X-Job-Id names the job."""
    svc = services()
    body = read_request(EmbeddingsRequest, svc.settings.limits)
    model = find_model(svc.settings, body.model, JobType.EMBED)
    _check_dimensions(model.id, body.dimensions, model.dimensions)
    data: dict[str, Any] = {"input": body.input}
    if body.truncate is not None:
        data["truncate"] = body.truncate
    embed = job_input(JobType.EMBED, data, svc.settings.limits)
    wait_s = svc.settings.openai_wait_s
    done = submit(svc, ROUTE, JobType.EMBED, embed, wait_s=wait_s)
    record = finished(svc, done, wait_s, param="input")
    # A model whose length is not configured is checked against the vectors it made.
    _check_dimensions(model.id, body.dimensions, (record.result or {}).get("dimensions"))
    return answer(embeddings(record, model=body.model, encoding=body.encoding_format or "float"), done)


def _check_dimensions(model_id: str, wanted: int | None, actual: int | None) -> None:
    """InvalidRequestError unless the request's `wanted` dimensions are absent, not known yet, or `actual`."""
    if wanted is not None and actual is not None and wanted != actual:
        raise InvalidRequestError(
            f"{model_id} makes {actual}-dimensional vectors; send dimensions {actual} or leave it out",
            param="dimensions",
            code="unsupported_value",
        )


def encode(vector: list[float], encoding: str) -> list[float] | str:
    """A vector as floats, or as base64 of its little-endian float32 bytes (what OpenAI's base64 is)."""
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


def embeddings(record: JobRecord, *, model: str, encoding: str) -> dict[str, Any]:
    """A succeeded embed job as OpenAI's list of embedding objects (cut texts listed as `truncated`)."""
    result = record.result or {}
    data = [
        {"object": "embedding", "index": i, "embedding": encode(vector, encoding)}
        for i, vector in enumerate(result.get("embeddings", []))
    ]
    usage = result.get("usage") or {"prompt_tokens": 0, "total_tokens": 0}
    body: dict[str, Any] = {"object": "list", "data": data, "model": model, "usage": usage}
    if result.get("truncated"):
        body["truncated"] = result["truncated"]
    return body
