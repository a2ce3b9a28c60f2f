"""Who calls and how they reached the API: only their tenant's jobs are theirs; links use their base URL."""

from __future__ import annotations

from flask import request

from api.auth import principal
from shared.errors import NotFoundError
from shared.job_record import JobRecord


def owned(record: JobRecord) -> JobRecord:
    """The record if it is the caller's tenant's; another tenant's job is not found, as an unknown id."""
    if record.owner != principal().tenant:
        raise NotFoundError(f"no job {record.id}")
    return record


def base_url(public_url: str | None) -> str:
    """The URL prefix for links: the configured public URL, else the request's own host."""
    return (public_url or request.host_url).rstrip("/")
