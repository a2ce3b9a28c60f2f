"""Request helpers shared by the views: JSON bodies, wait times, the caller, the base URL."""

from __future__ import annotations

import re
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from shared.errors import InputError, MalformedBodyError, NotFoundError
from shared.inputs import validation_errors
from shared.jobs import JobRecord
from shared.settings import Limits

M = TypeVar("M", bound=BaseModel)

_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)
ANONYMOUS = "anonymous"


def read_body(model: type[M], limits: Limits) -> M:
    """The request body parsed as JSON (whatever the Content-Type says) into `model`, caps checked."""
    raw = request.get_data(cache=False)
    try:
        return model.model_validate_json(raw, context={"limits": limits})
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedBodyError(
                "the body is not valid JSON", [{"field": "body", "message": "not valid JSON"}]
            ) from exc
        raise InputError("the body is invalid", validation_errors(exc)) from exc


def wait_query(limits: Limits) -> int:
    """The `?wait=N` long-wait in seconds (0 without it); past the cap is an error."""
    raw = request.args.get("wait")
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) > limits.max_wait_s:
        message = f"must be an integer from 0 to {limits.max_wait_s}"
        raise InputError(f"wait {message}", [{"field": "wait", "message": message}])
    return int(raw)


def prefer_wait(limits: Limits) -> int:
    """The `Prefer: wait=N` hint in seconds, capped (a preference is a hint, RFC 7240)."""
    match = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    return min(int(match.group(1)), limits.max_wait_s) if match else 0


def owner() -> str:
    """Who is asking; every job belongs to its creator (one owner until API keys exist)."""
    return ANONYMOUS


def owned(record: JobRecord) -> JobRecord:
    """The record if the caller owns it; another owner's job answers exactly like an unknown id."""
    if record.owner != owner():
        raise NotFoundError(f"no job {record.id}")
    return record


def base_url(public_url: str | None) -> str:
    """The URL prefix for links: the configured public URL, else the request's own host."""
    return (public_url or request.host_url).rstrip("/")
