"""/v1/batches: create a batch from an uploaded file, read it, list them, cancel it (OpenAI's Batch API).

The request only records the batch (`validating`); the batch runner (`python -m api.batches`) reads
its file and enqueues its lines, off the API process.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api import problems
from api.auth import principal
from api.files import files, page
from api.openai.errors import TAGS, InvalidRequestError, answers
from api.openai.jobs import read_request
from api.operations import operation
from api.services import services
from api.spec import query
from api.webhooks import WebhookAttempts, render_attempt
from shared.auth import Scope
from shared.errors import ConflictError, InputError
from shared.messages import validation_errors
from shared.store.batches import BatchRecord, BatchStore, batch_webhooks
from shared.webhook import BatchWebhookSpec
from shared.webhook_targets import check_url, parse_nets

bp = Blueprint("batches", __name__, url_prefix="/v1/batches")
problems.register_openai(bp)

Endpoint = Literal["/v1/chat/completions", "/v1/embeddings", "/v1/images/generations"]
_LIST = (
    query(
        "limit", {"type": "integer", "minimum": 1, "maximum": 100}, "most batches in the page (default 20)"
    ),
    query("after", {"type": "string"}, "the id of the last batch of the previous page"),
)


class BatchCreate(BaseModel):
    """Body of POST /v1/batches."""

    model_config = ConfigDict(extra="forbid")

    input_file_id: str = Field(min_length=1, max_length=100)
    endpoint: Endpoint
    completion_window: Literal["24h"]
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    webhook: Any = Field(  # checked apart, as a job's webhook is: 422 naming the field
        default=None, description="an extension: {url, events} told of the batch's end (batch.completed, ...)"
    )


def batches() -> BatchStore:
    """The batch store over the API's Redis connections."""
    return BatchStore.on(services().pool)


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), mimetype="application/json")


@operation(
    bp.post(""),
    answers("the batch object, validating", 400, 404, 415, 422, 503),
    scopes=(Scope.JOBS_WRITE,),
    tags=TAGS,
)
def create() -> Response:
    """Run every request of an uploaded JSONL file as a job; OpenAI's batch object, `validating`."""
    svc = services()
    body = read_request(BatchCreate, svc.settings.limits)
    who = principal()
    webhook = _webhook(body.webhook)
    files().get(body.input_file_id, who.tenant)  # 404 for an unknown file or another tenant's
    now = int(time.time())
    record = BatchRecord(
        id=f"batch_{uuid.uuid4().hex}",
        owner=who.tenant,
        key_id=who.key_id,
        endpoint=body.endpoint,
        input_file_id=body.input_file_id,
        completion_window=body.completion_window,
        created_at=now,
        expires_at=now + svc.settings.limits.batch_window_s,
        metadata=body.metadata,
        webhook=webhook.model_dump(mode="json") if webhook else None,
    )
    batches().create(record)
    return _json(record.public())


def _webhook(raw: Any) -> BatchWebhookSpec | None:
    """The batch's webhook, checked as a job's is; InputError (422) naming `webhook.<field>`."""
    if raw is None:
        return None
    try:
        spec = BatchWebhookSpec.model_validate(raw)
    except ValidationError as exc:
        raise InputError("the webhook is invalid", errors=validation_errors(exc, prefix="webhook")) from exc
    allowed = parse_nets(services().settings.webhook_allow_nets)
    check_url(spec.url, allowed=allowed, resolve=services().resolve)
    return spec


@operation(
    bp.get(""),
    answers("a page of batch objects", 400, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    params=_LIST,
    tags=TAGS,
)
def list_batches() -> Response:
    """The tenant's batches, newest first, as OpenAI's list (`after` pages on)."""
    raw = request.args.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InvalidRequestError("limit must be an integer from 1 to 100", param="limit")
    limit = int(raw)
    found = batches().list(principal().tenant, limit=limit + 1, after=request.args.get("after"))
    return _json(page([b.public() for b in found[:limit]], has_more=len(found) > limit))


@operation(
    bp.get("/<batch_id>"),
    answers("the batch object", 404, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    tags=TAGS,
)
def retrieve(batch_id: str) -> Response:
    """The tenant's batch, as OpenAI's batch object with its request_counts."""
    return _json(batches().get(batch_id, principal().tenant).public())


@operation(
    bp.post("/<batch_id>/cancel"),
    answers("the batch object, cancelling", 404, 409, 503),
    scopes=(Scope.JOBS_WRITE,),
    tags=TAGS,
)
def cancel(batch_id: str) -> Response:
    """Cancel the batch: its queued lines are canceled, running ones finish; it ends `cancelled`."""
    store = batches()
    record = store.get(batch_id, principal().tenant)
    if record.status in ("completed", "failed", "expired"):
        raise ConflictError(f"the batch {batch_id} has already ended: {record.status}")
    store.request_cancel(batch_id)
    return _json(store.get(batch_id, principal().tenant).public())


@operation(
    bp.get("/<batch_id>/webhooks"),
    answers("the batch's webhook delivery attempts", 404, 503),
    scopes=(
        Scope.JOBS_READ,
        Scope.JOBS_WRITE,
    ),
    tags=TAGS,
)
def webhook_attempts(batch_id: str) -> Response:
    """Each try at delivering the batch's end to its webhook, oldest first (an extension)."""
    batches().get(batch_id, principal().tenant)  # 404 for an unknown id or another tenant's batch
    attempts = services().webhooks.attempts_at(batch_webhooks(batch_id))
    return _json(WebhookAttempts(attempts=[render_attempt(a) for a in attempts]).model_dump(mode="json"))
