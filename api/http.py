"""Request helpers shared by the views: JSON bodies, wait times, the caller, the base URL."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import request
from pydantic import TypeAdapter, ValidationError

from api.auth import principal
from shared.errors import BodyTooLargeError, InputError, MalformedBodyError, NotFoundError
from shared.inputs import validation_errors
from shared.jobs import JobRecord
from shared.settings import Limits
from shared.vocabulary import JobType

_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)
# A discriminated union names the member it tried first in an error's location.
_UNION_TAGS = frozenset(t.value for t in JobType)


@cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


def read_body(schema: Any, limits: Limits) -> Any:
    """The request body parsed as JSON into `schema`, caps checked against `limits`.

    Raises MalformedBodyError (400) when it is not JSON, InputError (422) naming each bad field.
    """
    raw = _body_bytes(limits.max_body_bytes)
    adapter = _adapter(schema)
    try:
        return adapter.validate_json(raw, context={"limits": limits})
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors()):
            raise _invalid_body(exc) from exc
        error = exc
    # The fast parser refuses some JSON the standard allows, such as a lone surrogate escape
    # ("\ud800"): parse it the slow way, so the field that holds it is named.
    try:
        data = json.loads(raw)
    except ValueError:
        raise MalformedBodyError(
            "the body is not valid JSON", errors=[{"field": "body", "message": "not valid JSON"}]
        ) from error
    try:
        return adapter.validate_python(data, context={"limits": limits})
    except ValidationError as exc:
        raise _invalid_body(exc) from exc


def _body_bytes(limit: int) -> bytes:
    """The whole body; BodyTooLargeError past `limit` bytes, however it is framed."""
    if request.content_length is not None:
        return request.get_data(cache=False)  # werkzeug refuses a declared length past the limit
    if not request.environ.get("wsgi.input_terminated"):
        return b""
    # Chunked: read the server's stream itself, one byte past the limit, to tell "at" from "over".
    data: bytes = request.environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise BodyTooLargeError(f"the body is over the limit of {limit} bytes")
    return data


def _invalid_body(exc: ValidationError) -> InputError:
    """An InputError naming each field; "the <type> input is invalid" when only the input is."""
    errors, tags = validation_errors(exc), set()
    for err in errors:
        head, _, rest = str(err["field"]).partition(".")
        if head in _UNION_TAGS and rest:
            err["field"] = rest
            tags.add(head)
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            err["field"] = "type"
    only_input = len(tags) == 1 and all(str(e["field"]).startswith("input.") for e in errors)
    return InputError(
        f"the {tags.pop()} input is invalid" if only_input else "the body is invalid", errors=errors
    )


def wait_query(limits: Limits) -> int:
    """The `?wait=N` long-wait in seconds (0 without it); past the cap is an InputError."""
    raw = request.args.get("wait")
    if raw is None:
        return 0
    if not raw.isdigit() or int(raw) > limits.max_wait_s:
        message = f"must be an integer from 0 to {limits.max_wait_s}"
        raise InputError(f"wait {message}", errors=[{"field": "wait", "message": message}])
    return int(raw)


def prefer_wait(limits: Limits) -> int:
    """The `Prefer: wait=N` hint in seconds, capped (a preference is a hint, RFC 7240)."""
    match = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    return min(int(match.group(1)), limits.max_wait_s) if match else 0


def owned(record: JobRecord) -> JobRecord:
    """The record if it is the caller's tenant's; another tenant's job is not found, as an unknown id."""
    if record.owner != principal().tenant:
        raise NotFoundError(f"no job {record.id}")
    return record


def base_url(public_url: str | None) -> str:
    """The URL prefix for links: the configured public URL, else the request's own host."""
    return (public_url or request.host_url).rstrip("/")
