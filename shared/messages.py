"""Validation errors in our words: what a field must be, never pydantic's wording or a Python repr."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

Ctx = Mapping[str, Any]

_SHAPES = {
    "int": "an integer (a JSON number without a fraction, not a string)",
    "float": "a number",
    "string": "a string",
    "bool": "true or false",
    "list": "an array",
    "dict": "an object",
}
_SHAPE_OF = {
    **{t: "int" for t in ("int_type", "int_parsing", "int_from_float", "int_parsing_size")},
    **{t: "float" for t in ("float_type", "float_parsing", "decimal_type", "decimal_parsing")},
    **{t: "string" for t in ("string_type", "string_sub_type", "bytes_type")},
    **{t: "bool" for t in ("bool_type", "bool_parsing")},
    **{t: "list" for t in ("list_type", "tuple_type", "set_type", "frozen_set_type", "iterable_type")},
    **{t: "dict" for t in ("dict_type", "model_type", "model_attributes_type", "dataclass_type")},
}


def _items(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"


def _too_short(ctx: Ctx) -> str:
    n = int(ctx.get("min_length", 1))
    return "must not be empty" if n <= 1 else f"must hold at least {_items(n)}"


def _string_too_short(ctx: Ctx) -> str:
    n = int(ctx.get("min_length", 1))
    return "must not be empty" if n <= 1 else f"must be at least {n} characters long"


def _pattern(pattern: str) -> str:
    if pattern.startswith("^https?://"):
        return "must be an http:// or https:// URL: a host, an optional port, then visible ASCII only"
    return "does not have the form this field takes (its pattern is in the OpenAPI document, /openapi.json)"


_SAID: dict[str, Callable[[Ctx], str]] = {
    "missing": lambda c: "is required",
    "extra_forbidden": lambda c: "is not a field here (see the OpenAPI document at /openapi.json)",
    "literal_error": lambda c: f"must be one of {c.get('expected', 'the listed values')}",
    "enum": lambda c: f"must be one of {c.get('expected', 'the listed values')}",
    "union_tag_invalid": lambda c: f"must be one of {c.get('expected_tags', 'the listed values')}",
    "union_tag_not_found": lambda c: "is required",
    "greater_than": lambda c: f"must be greater than {c.get('gt')}",
    "greater_than_equal": lambda c: f"must be at least {c.get('ge')}",
    "less_than": lambda c: f"must be less than {c.get('lt')}",
    "less_than_equal": lambda c: f"must be at most {c.get('le')}",
    "multiple_of": lambda c: f"must be a multiple of {c.get('multiple_of')}",
    "finite_number": lambda c: "must be a finite number",
    "too_short": _too_short,
    "too_long": lambda c: f"must hold at most {_items(int(c.get('max_length', 0)))}",
    "string_too_short": _string_too_short,
    "string_too_long": lambda c: f"must be at most {c.get('max_length')} characters long",
    "string_pattern_mismatch": lambda c: _pattern(str(c.get("pattern", ""))),
    "string_unicode": lambda c: "must be valid Unicode text",
    "none_required": lambda c: "must be null",
    "json_invalid": lambda c: "must be valid JSON",
    "json_type": lambda c: "must be JSON text",
    "url_parsing": lambda c: "must be a URL such as https://example.com/hook",
    "url_scheme": lambda c: f"must be a URL starting with {c.get('expected_schemes', 'http:// or https://')}",
    "url_type": lambda c: "must be a URL such as https://example.com/hook",
    "uuid_parsing": lambda c: "must be a UUID",
    "uuid_type": lambda c: "must be a UUID",
}
_OURS = ("Value error, ", "Assertion failed, ")  # raised by our validators: their text is already ours
FALLBACK = "has a value this field does not take (see the OpenAPI document at /openapi.json)"


def say(err: Mapping[str, Any]) -> str:
    """What one pydantic error (a member of `ValidationError.errors()`) means, as our sentence's tail."""
    kind = str(err.get("type", ""))
    msg = str(err.get("msg", ""))
    ctx: Ctx = err.get("ctx") or {}
    ours = [msg.removeprefix(prefix) for prefix in _OURS if msg.startswith(prefix)]
    if kind in ("value_error", "assertion_error") and ours:
        return ours[0]
    if kind in _SHAPE_OF:
        return f"must be {_SHAPES[_SHAPE_OF[kind]]}"
    said = _SAID.get(kind)
    return said(ctx) if said else FALLBACK


def either(first: str, second: str) -> str:
    """Two union members' messages for one field as one: "must be a string or an array"."""
    if first.startswith("must be ") and second.startswith("must be "):
        return f"{first} or {second.removeprefix('must be ')}"
    return f"{first}; or {second}"


def is_shape(kind: str) -> bool:
    """Whether a pydantic error type only says the value has the wrong JSON type."""
    return kind in _SHAPE_OF


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[dict[str, Any]]:
    """Flatten pydantic's errors into problem+json `errors` entries, each naming its field in our words.

    Where a union's members disagree, the member that got further wins: `["", "x"]` for a string or an
    array is an empty item of the array, not "must be a string".
    """
    by_field: dict[str, dict[str, Any]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        parts = [prefix] if prefix else []
        parts += [str(p) for p in err["loc"] if not _is_union_tag(p)]
        field = ".".join(parts) or "body"
        message, kind = say(err), err["type"]
        known = by_field.get(field)
        if known is None or (is_shape(known["type"]) and not is_shape(kind)):
            by_field[field] = {"field": field, "message": message, "type": kind}
        elif is_shape(known["type"]) == is_shape(kind) and message not in known["message"]:
            known["message"] = either(known["message"], message)
    fields = list(by_field)
    return [
        e
        for e in by_field.values()
        if not (is_shape(e["type"]) and any(f.startswith(f"{e['field']}.") for f in fields))
    ]


def _is_union_tag(part: str | int) -> bool:
    # pydantic names the union member it tried ("str", "list[str]", a function validator) in the location.
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part or "-" in part)


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict"})


def listed(exc: Exception) -> str:
    """An error's message with the fields it names, as a job's `error.message` shows it."""
    errors = getattr(exc, "errors", None) or []
    fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict))
    return f"{exc}: {fields}" if fields else str(exc)
