"""Request helpers shared by the views: JSON bodies, wait times, the caller, the base URL."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from typing import Any

from flask import request
from pydantic import TypeAdapter, ValidationError

from api.auth import principal
from api.spec import Param, header
from api.submit import Options
from shared import numbers
from shared.errors import BodyTooLargeError, InputError, MalformedBodyError, NotFoundError
from shared.inputs import validation_errors
from shared.jobs import JobRecord
from shared.settings import Limits
from shared.vocabulary import JobType

_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*([0-9]+)", re.IGNORECASE | re.ASCII)
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
        invalid = [e for e in exc.errors() if e["type"] == "json_invalid"]
        if not invalid:
            raise _invalid_body(exc) from exc
        if any("recursion limit" in e["msg"] for e in invalid):
            raise _too_deep() from exc
        error = exc
    # The fast parser refuses some JSON the standard allows, such as a lone surrogate escape
    # ("\ud800"): parse it the slow way, so the field that holds it is named.
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _too_deep() from error
    except ValueError as exc:
        raise _malformed(exc) from error
    try:
        return adapter.validate_python(data, context={"limits": limits})
    except ValidationError as exc:
        raise _invalid_body(exc) from exc


def _too_deep() -> MalformedBodyError:
    """A body whose arrays and objects nest deeper than any real request (the JSON parser's limit)."""
    message = "nested too deeply (arrays and objects more than 200 levels deep)"
    return MalformedBodyError(f"the body's JSON is {message}", errors=[{"field": "body", "message": message}])


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


def _malformed(exc: ValueError) -> MalformedBodyError:
    """The 400 for a body that is not JSON, saying where it breaks."""
    where = ""
    if isinstance(exc, json.JSONDecodeError):
        where = f" (it breaks at line {exc.lineno}, column {exc.colno}: character {exc.pos})"
    message = f"must be JSON{where}; send Content-Type: application/json with a JSON object"
    return MalformedBodyError(
        f"the body is not valid JSON{where}", errors=[{"field": "body", "message": message}]
    )


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
            if err["type"] == "union_tag_not_found":
                err["message"] = f"is required: one of {', '.join(t.value for t in JobType)}"
    only_input = len(tags) == 1 and all(str(e["field"]).startswith("input.") for e in errors)
    return InputError(
        f"the {tags.pop()} input is invalid" if only_input else "the body is invalid", errors=errors
    )


def wait_query(limits: Limits) -> int:
    """The `?wait=N` long-wait in seconds (0 without it); past the cap is an InputError."""
    raw = request.args.get("wait")
    if raw is None:
        return 0
    seconds = numbers.integer(raw, high=limits.max_wait_s)
    if seconds is None:
        message = f"must be an integer from 0 to {limits.max_wait_s}"
        raise InputError(f"wait {message}", errors=[{"field": "wait", "message": message}])
    return seconds


def prefer_wait(limits: Limits) -> int:
    """The `Prefer: wait=N` hint in seconds, capped (a preference is a hint, RFC 7240)."""
    match = _PREFER_WAIT.search(request.headers.get("Prefer", ""))
    if not match:
        return 0
    seconds = numbers.integer(match.group(1))  # None: more digits than any real wait, so the cap
    return limits.max_wait_s if seconds is None else min(seconds, limits.max_wait_s)


def owned(record: JobRecord) -> JobRecord:
    """The record if it is the caller's tenant's; another tenant's job is not found, as an unknown id."""
    if record.owner != principal().tenant:
        raise NotFoundError(f"no job {record.id}")
    return record


def base_url(public_url: str | None) -> str:
    """The URL prefix for links: the configured public URL, else the request's own host."""
    return (public_url or request.host_url).rstrip("/")


IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"}
_N = "[0-9]{1,30}"  # a number in a duration: as many digits as shared.numbers reads, then held to the cap
_DURATION_PATTERN = f"^({_N}|{_N}h({_N}m)?({_N}s)?|{_N}m({_N}s)?|{_N}s)$"
CANCEL_AFTER = {"type": "string", "pattern": _DURATION_PATTERN}
TRACEPARENT = {"type": "string", "description": "W3C Trace Context; a malformed one is ignored"}
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# W3C Trace Context's traceparent, version 00 or a later one read as 00 (https://www.w3.org/TR/trace-context/).
_TRACEPARENT = re.compile(r"(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
_DURATION = re.compile(f"(?:({_N})h)?(?:({_N})m)?(?:({_N})s)?", re.ASCII)


def create_options(body: Any, limits: Limits) -> Options:
    """A create request's options: deadline (body's deadline_s, else Cancel-After), webhook, Idempotency-Key.

    Raises InputError naming a malformed Idempotency-Key or Cancel-After header.
    """
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.fullmatch(key):
        message = "must be 1 to 255 visible ASCII characters"
        raise InputError(
            f"Idempotency-Key {message}", errors=[{"field": "Idempotency-Key", "message": message}]
        )
    cancel_after = _cancel_after(limits)  # read even when the body sets deadline_s: a bad one is a 422
    deadline = body.deadline_s or cancel_after
    fingerprint = hashlib.sha256(f"{body.model_dump_json()}|{deadline}".encode()).hexdigest()
    return Options(
        deadline_s=deadline,
        webhook=body.webhook,
        idempotency_key=key,
        fingerprint=fingerprint,
        traceparent=traceparent(),
        priority=getattr(body, "priority", "interactive"),
    )


def traceparent() -> str:
    """The request's W3C `traceparent`, or "" when absent or malformed (the spec says to ignore those)."""
    raw = request.headers.get("traceparent", "").strip().lower()
    fits = len(raw) == 55 or (not raw.startswith("00") and raw[55:56] == "-")  # later versions may add fields
    return raw[:55] if fits and _TRACEPARENT.match(raw) else ""


def _cancel_after(limits: Limits) -> int | None:
    """The Cancel-After header (Replicate's): seconds, or a duration such as 90s, 5m or 1h30m.

    It is held between 1 s and LLMB_LIMITS__DEADLINE_MAX_S (the job's deadline_at shows the one
    applied); a malformed one is an InputError.
    """
    raw = request.headers.get("Cancel-After")
    if raw is None:
        return None
    found = _DURATION.fullmatch(raw.strip())
    seconds = numbers.integer(raw.strip())
    if seconds is None and found and any(found.groups()):
        h, m, s = (numbers.integer(x or "0") or 0 for x in found.groups())
        seconds = 3600 * h + 60 * m + s
    if seconds is None:
        message = "must be a number of seconds or a duration (90s, 5m, 1h30m)"
        raise InputError(f"Cancel-After {message}", errors=[{"field": "Cancel-After", "message": message}])
    return min(max(seconds, 1), limits.deadline_max_s)


# The headers every route that submits a job reads (POST /v1/jobs adds Prefer), for the document.
CREATE_HEADERS: tuple[Param, ...] = (
    header("Idempotency-Key", IDEMPOTENCY_KEY, "the same key and body answer the same job, never a second"),
    header("Cancel-After", CANCEL_AFTER, "the job's deadline: seconds (90) or a duration (90s, 5m, 1h30m)"),
    header("traceparent", TRACEPARENT, "the caller's trace, carried onto the job's log lines"),
)
