"""One log line per request: method, path, status, who asked (key id, tenant; never a secret), which job."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from api.auth import principal

log = logging.getLogger("api.requests")


def log_request(response: Response) -> Response:
    """after_request: the audit line, with its fields also as the record's extras (for JSON logs)."""
    who = principal()
    job_id = g.get("job_id") or (request.view_args or {}).get("job_id") or "-"
    fields = {"key_id": who.key_id, "tenant": who.tenant, "job_id": job_id, "status": response.status_code}
    log.info(
        "%s %s %d key=%s tenant=%s job=%s",
        request.method,
        request.path,
        response.status_code,
        who.key_id,
        who.tenant,
        job_id,
        extra=fields,
    )
    return response


def register(app: Flask) -> None:
    """Log every request once it has its answer."""
    app.after_request(log_request)
