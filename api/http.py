"""Request helpers shared by the views: JSON bodies, wait times, the caller, the base URL."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import request
from pydantic import TypeAdapter, ValidationError

from shared.errors import InputError, MalformedBodyError, NotFoundError
from shared.inputs import validation_errors
from shared.jobs import JobRecord
from shared.settings import Limits
from shared.vocabulary import JobType

_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)
# A discriminated union names the member it tried first in an error's location.
_UNION_TAGS = frozenset(t.value for t in JobType)
ANONYMOUS = "anonymous"


@cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


def read_body(schema: Any, limits: Limits) -> Any:
    """The request body parsed as JSON into `schema`, caps checked against `limits`.

    Raises MalformedBodyError (400) when it is not JSON, InputError (422) naming each bad field.
    """
    raw = request.get_data(cache=False)
    try:
        value = _adapter(schema).validate_json(raw, context={"limits": limits})
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedBodyError(
                "the body is not valid JSON", errors=[{"field": "body", "message": "not valid JSON"}]
            ) from exc
        raise _invalid_body(exc) from exc
    return value


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


def owner() -> str:
    """Who is asking; every job belongs to its creator (one owner until API keys exist)."""
    return ANONYMOUS


def owned(record: JobRecord) -> JobRecord:
    """The record if the caller owns it; another owner's job is a NotFoundError, like an unknown id."""
    if record.owner != owner():
        raise NotFoundError(f"no job {record.id}")
    return record


def base_url(public_url: str | None) -> str:
    """The URL prefix for links: the configured public URL, else the request's own host."""
    return (public_url or request.host_url).rstrip("/")
