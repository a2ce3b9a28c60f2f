"""Webhooks: a job's delivery attempts, and the tenant's signing secret (read and rotated)."""

from __future__ import annotations

import time

from flask import Blueprint, Response
from pydantic import BaseModel, Field

from api.auth import principal
from api.caller import owned
from api.operations import operation
from api.services import services
from api.spec import json_answer
from shared.auth import Scope
from shared.store.webhooks import SigningSecret
from shared.views import iso
from shared.webhook import Attempt, NoticeEvent, Outcome, WebhookEvent

bp = Blueprint("webhooks", __name__)
TAGS = ("Webhooks",)


class AttemptView(BaseModel):
    """One try at delivering one of a job's events (or a batch's end)."""

    at: str = Field(description="when it was made (RFC 3339 UTC)")
    event: WebhookEvent | NoticeEvent
    webhook_id: str = Field(description="the webhook-id header: the same for every try of one event")
    outcome: Outcome = Field(
        description="delivered, retrying, stopped (410, another status, refused) or gave_up"
    )
    status_code: int | None = Field(description="the receiver's HTTP status, when it answered")
    error: str | None = Field(description="why no answer came (timeout, connection, refused address)")
    next_attempt_at: str | None = Field(description="when it is tried again, while retrying")
    duration_ms: int


class WebhookAttempts(BaseModel):
    """A job's webhook delivery attempts, oldest first."""

    attempts: list[AttemptView]


class WebhookSecret(BaseModel):
    """The tenant's webhook signing secret (Standard Webhooks format), the same for all its jobs."""

    secret: str = Field(description="whsec_ and base64 of 32 random bytes; verify deliveries with it")
    previous_valid_until: str | None = Field(
        description="after a rotation, deliveries also carry a signature by the replaced secret until then"
    )


def render_attempt(attempt: Attempt) -> AttemptView:
    """The client's view of a recorded attempt."""
    return AttemptView(
        at=iso(attempt.at) or "",
        event=attempt.event,
        webhook_id=attempt.webhook_id,
        outcome=attempt.outcome,
        status_code=attempt.status_code,
        error=attempt.error,
        next_attempt_at=iso(attempt.next_at),
        duration_ms=attempt.duration_ms,
    )


def _secret_view(found: SigningSecret) -> WebhookSecret:
    alive = found.previous_until is not None and found.previous_until > time.time()
    return WebhookSecret(
        secret=found.current, previous_valid_until=iso(found.previous_until) if alive else None
    )


def _json(view: BaseModel, *, private: bool = False) -> Response:
    response = Response(view.model_dump_json(), mimetype="application/json")
    if private:  # a secret: no cache keeps a copy
        response.headers["Cache-Control"] = "no-store"
    return response


@operation(
    bp.get("/v1/jobs/<job_id>/webhooks"),
    {200: json_answer("its attempts", "WebhookAttempts")},
    scopes=(Scope.JOBS_READ,),
    problems=(404, 503),
    tags=TAGS,
)
def attempts(job_id: str) -> Response:
    """The job's webhook delivery attempts, oldest first; 404, 503."""
    svc = services()
    owned(svc.store.get(job_id))
    return _json(WebhookAttempts(attempts=[render_attempt(a) for a in svc.webhooks.attempts(job_id)]))


@operation(
    bp.get("/v1/webhooks/secret"),
    {200: json_answer("the secret", "WebhookSecret")},
    scopes=(Scope.JOBS_READ,),
    problems=(503,),
    tags=TAGS,
)
def secret() -> Response:
    """The caller's tenant's signing secret (made on first need); 503."""
    return _json(_secret_view(services().webhooks.secret(principal().tenant)), private=True)


@operation(
    bp.post("/v1/webhooks/secret/rotate"),
    {200: json_answer("the new secret", "WebhookSecret")},
    scopes=(Scope.JOBS_WRITE,),
    problems=(503,),
    tags=TAGS,
)
def rotate() -> Response:
    """Replace the tenant's signing secret; the old one also signs for 24 hours more; 503."""
    found = services().webhooks.rotate(principal().tenant, now=time.time())
    return _json(_secret_view(found), private=True)
