"""Failed requests as one exception: the problem+json answer read, or the other error answer described."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from shared import numbers

# `RateLimit: "jobs";r=0;t=42` (draft-ietf-httpapi-ratelimit-headers): t is when more is allowed.
_RATELIMIT_RESET = re.compile(r";\s*t=([0-9]{1,9})\b", re.ASCII)


@dataclass(eq=False)
class ApiError(Exception):
    """A failed request: a problem+json answer, another error answer, or no answer at all (status 0)."""

    detail: str
    status: int = 0
    code: str = "error"
    errors: list[dict[str, Any]] = field(default_factory=list)
    retry_after_s: int | None = None  # when the server said to try again (Retry-After, RateLimit)

    def __str__(self) -> str:
        return self.detail


def problem_error(response: httpx.Response) -> ApiError:
    """The ApiError for an error answer, read from problem+json when the body is one."""
    response.read()
    retry = retry_after(response.headers)
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("title") or f"HTTP {response.status_code}")
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        code = str(body.get("code") or "error")
        return ApiError(detail, status=response.status_code, code=code, errors=errors, retry_after_s=retry)
    snippet = " ".join(response.text.split())[:200]
    detail = f"HTTP {response.status_code} {response.reason_phrase} from {origin_text(response.url)}"
    text = f"{detail}: {snippet}" if snippet else detail
    return ApiError(text, status=response.status_code, retry_after_s=retry)


def adding(detail: str, errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The field errors that say more than `detail`: one whose message it already holds is left out."""
    return [e for e in errors if str(e.get("message") or "") not in detail]


def retry_after(headers: httpx.Headers) -> int | None:
    """Seconds to wait before trying again: Retry-After (seconds or a date), else RateLimit's `t`."""
    value = headers.get("retry-after", "").strip()
    seconds = numbers.integer(value)
    if seconds is not None:
        return seconds
    if value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0, math.ceil(when.timestamp() - time.time()))
    found = _RATELIMIT_RESET.search(headers.get("ratelimit", ""))
    return int(found.group(1)) if found else None


def origin_text(url: httpx.URL) -> str:
    """`scheme://host[:port]` of a URL, for messages."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"
