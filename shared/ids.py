"""The shapes of the ids clients send (job ids, key ids, tenants), checked at the edge and in key names.

A job id is a UUID as the API writes it (lowercase, hyphenated), a key id 12 lowercase letters or
digits, a tenant lowercase letters, digits and `_.-`. Whatever does not have its shape is unknown (404),
never a piece of a Redis key name: "<id>:events" would name another key.
"""

from __future__ import annotations

import re

from shared.errors import NotFoundError

JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
KEY_ID = re.compile(r"[a-z0-9]{12}", re.ASCII)
TENANT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}", re.ASCII)
# What may stand between a key name's colons: no colon, no glob character, no space or control.
_KEY_PART = re.compile(r"[A-Za-z0-9_.-]{1,128}", re.ASCII)


def is_job_id(text: str) -> bool:
    """True when `text` has a job id's shape."""
    return JOB_ID.fullmatch(text) is not None


def is_key_id(text: str) -> bool:
    """True when `text` has an API key id's shape."""
    return KEY_ID.fullmatch(text) is not None


def is_tenant(text: str) -> bool:
    """True when `text` has a tenant's shape."""
    return TENANT.fullmatch(text) is not None


def key_part(text: str, what: str) -> str:
    """`text`, when it may go between a Redis key name's colons; NotFoundError ("no <what>") otherwise."""
    if _KEY_PART.fullmatch(text) is None:
        raise NotFoundError(f"no {what} {text}")
    return text
