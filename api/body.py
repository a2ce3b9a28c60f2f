"""A request's JSON body: read however it is framed, under the size cap, and parsed into its model.

The one place a view's body becomes its pydantic model: 400 for what is not JSON (or nests too
deeply), 413 past the cap, 422 naming each field the model refuses.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import request
from pydantic import TypeAdapter, ValidationError

from shared.errors import BodyTooLargeError, InputError, MalformedBodyError
from shared.inputs import validation_errors
from shared.settings import Limits
from shared.vocabulary import JobType

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
