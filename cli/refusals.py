"""What to say when a request fails: the server's detail, plus what to do about a refused key or a limit.

A key is named by its public part only, `llmb_<id>_…`: the secret never reaches the screen, not even
when a server's message repeats the key.
"""

from __future__ import annotations

import re

from cli.problems import ApiError

KEY_ID = re.compile(r"\Allmb_([a-z0-9]{12})_")
NO_KEY = "the server needs an API key: pass --api-key KEY or set LLMB_API_KEY"


def key_name(key: str) -> str:
    """The public part of a key, `llmb_<id>_…`, or a phrase when the key has no readable id."""
    found = KEY_ID.match(key)
    return f"{found.group(0)}…" if found else "a key that is not of the form llmb_<id>_<secret>"


def explain(error: ApiError, *, key: str | None, source: str = "--api-key") -> str:
    """The message for a failed request; `key` is the API key sent, from `source`, if any."""
    if error.status == 401 and not key:
        return NO_KEY
    message = error.detail
    if error.status in (401, 403) and key:
        message = f"{message} (sent {key_name(key)} from {source})"
    elif error.status in (429, 503) and error.retry_after_s is not None:
        message = f"{message}; retry in {error.retry_after_s} s"
    return redact(message, key)


def redact(message: str, key: str | None) -> str:
    """`message` with every copy of `key` replaced by the key's public part."""
    return message.replace(key, key_name(key)) if key else message
