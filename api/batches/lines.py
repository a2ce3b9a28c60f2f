"""One line of a batch input file: checked exactly as its synchronous route checks a request, and its
job's end rendered exactly as that route answers it (status code and body).

Both run inside a request context whose body is the line's `body` (`api.batches.runner` makes one), so
the routes' own readers, caps, model lookups and renderers are used as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from api.openai.catalog import find_model
from api.openai.chat import completion
from api.openai.chat_schema import ChatRequest
from api.openai.embeddings import _check_dimensions, embeddings
from api.openai.errors import InvalidRequestError, ended
from api.openai.images import RENAME, _input, images
from api.openai.jobs import job_input, read_request
from api.openai.schemas import EmbeddingsRequest, ImagesRequest
from api.problems import openai_body
from api.services import Services
from shared.errors import ServiceError
from shared.inputs import JobInput
from shared.job_record import JobRecord, JobStatus, JobType

ENDPOINTS = {
    "/v1/chat/completions": JobType.CHAT,
    "/v1/embeddings": JobType.EMBED,
    "/v1/images/generations": JobType.IMAGE,
}
_PARAM = {JobType.CHAT: "messages", JobType.EMBED: "input", JobType.IMAGE: "prompt"}


@dataclass(frozen=True)
class Line:
    """A batch input line: its custom_id and body as JSON text (the request context's body)."""

    custom_id: str | None
    body: str


def split(raw: bytes, endpoint: str) -> Line:
    """The line's custom_id and body; InvalidRequestError naming what is wrong with its envelope."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestError("the line is not valid JSON", param=None, code="invalid_json") from exc
    if not isinstance(data, dict):
        raise InvalidRequestError("the line must be a JSON object", param=None)
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise InvalidRequestError("custom_id must be a non-empty string", param="custom_id")
    if data.get("method", "POST") != "POST":
        raise InvalidRequestError("method must be POST", param="method")
    if data.get("url") != endpoint:
        raise InvalidRequestError(f"url must be the batch's endpoint {endpoint}", param="url")
    if not isinstance(data.get("body"), dict):
        raise InvalidRequestError("body must be a JSON object", param="body")
    return Line(custom_id, json.dumps(data["body"]))


def custom_id_of(raw: bytes) -> str | None:
    """The line's custom_id where one can be read (for a line refused before it was split)."""
    try:
        found = json.loads(raw).get("custom_id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def parse(svc: Services, job_type: JobType) -> tuple[BaseModel, JobInput]:
    """The request in context as the synchronous route reads it, and its job input; InvalidRequestError."""
    limits = svc.settings.limits
    if job_type == JobType.CHAT:
        chat = read_request(ChatRequest, limits)
        if chat.stream:
            raise InvalidRequestError("a batch line cannot stream", param="stream")
        find_model(svc.settings, chat.model, JobType.CHAT)
        rename = {"max_tokens": chat.tokens_field}
        return chat, job_input(JobType.CHAT, chat.job_input(), limits, rename=rename)
    if job_type == JobType.EMBED:
        embed = read_request(EmbeddingsRequest, limits)
        model = find_model(svc.settings, embed.model, JobType.EMBED)
        _check_dimensions(model.id, embed.dimensions, model.dimensions)
        data: dict[str, Any] = {"input": embed.input}
        if embed.truncate is not None:
            data["truncate"] = embed.truncate
        return embed, job_input(JobType.EMBED, data, limits)
    image = read_request(ImagesRequest, limits)
    find_model(svc.settings, image.model, JobType.IMAGE)
    return image, job_input(JobType.IMAGE, _input(image), limits, rename=RENAME)


def answer(
    svc: Services, job_type: JobType, request: BaseModel, record: JobRecord
) -> tuple[int, dict[str, Any]]:
    """The status code and body the synchronous route answers for this ended job."""
    if record.status != JobStatus.SUCCEEDED:
        error = ended(record, param=_PARAM[job_type])
        return error.status, openai_body(error)
    try:
        if isinstance(request, ChatRequest):
            return 200, completion(record, request.model)
        if isinstance(request, EmbeddingsRequest):
            found = find_model(svc.settings, request.model, JobType.EMBED)
            _check_dimensions(found.id, request.dimensions, (record.result or {}).get("dimensions"))
            encoding = request.encoding_format or "float"
            return 200, embeddings(record, model=request.model, encoding=encoding)
        assert isinstance(request, ImagesRequest)
        return 200, images(svc, record, b64=request.response_format == "b64_json")
    except ServiceError as exc:
        return exc.status, openai_body(exc)


def nonblank(data: bytes, offset: int = 0) -> Iterator[tuple[bytes, int]]:
    """Each non-blank line from `offset` on, stripped, with the offset just past it."""
    size = len(data)
    while offset < size:
        end = data.find(b"\n", offset)
        end = size if end < 0 else end + 1
        raw = data[offset:end].strip()
        offset = end
        if raw:
            yield raw, offset
