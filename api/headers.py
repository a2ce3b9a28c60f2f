"""The headers a job's creation reads (Idempotency-Key, Cancel-After, traceparent): parsed here only.

Every route that submits a job (POST /v1/jobs and the OpenAI routes) reads them with `create_headers`
and documents them with `CREATE_HEADERS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import request

from api.spec import Param, header
from shared import numbers
from shared.errors import InputError
from shared.settings import Limits

IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"}
_N = "[0-9]{1,30}"  # a number in a duration: as many digits as shared.numbers reads, then held to the cap
_DURATION_PATTERN = f"^({_N}|{_N}h({_N}m)?({_N}s)?|{_N}m({_N}s)?|{_N}s)$"
CANCEL_AFTER = {"type": "string", "pattern": _DURATION_PATTERN}
TRACEPARENT = {"type": "string", "description": "W3C Trace Context; a malformed one is ignored"}
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# W3C Trace Context's traceparent, version 00 or a later one read as 00 (https://www.w3.org/TR/trace-context/).
_TRACEPARENT = re.compile(r"(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")
_DURATION = re.compile(f"(?:({_N})h)?(?:({_N})m)?(?:({_N})s)?", re.ASCII)


@dataclass(frozen=True)
class CreateHeaders:
    """What a create request's headers ask: replay protection, a deadline, the caller's trace."""

    idempotency_key: str | None = None
    cancel_after_s: int | None = None  # held between 1 s and the deadline cap
    traceparent: str = ""  # "" when absent or malformed


def create_headers(limits: Limits) -> CreateHeaders:
    """The request's Idempotency-Key, Cancel-After and traceparent; InputError naming a malformed one."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.fullmatch(key):
        message = "must be 1 to 255 visible ASCII characters"
        raise InputError(
            f"Idempotency-Key {message}", errors=[{"field": "Idempotency-Key", "message": message}]
        )
    return CreateHeaders(key, _cancel_after(limits), traceparent())


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
