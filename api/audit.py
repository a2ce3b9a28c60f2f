"""One log line per request: method, path, status, who asked (key id, tenant; never a secret), which job."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from api.auth import principal
from shared import logs

log = logging.getLogger("api.requests")

# Probes and scrapes arrive every few seconds from every kubelet and Prometheus: logged only when they fail.
QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})


def log_request(response: Response) -> Response:
    """after_request: the audit line, with its fields also as the record's extras (for JSON logs).

    A probe or scrape that succeeds (`QUIET_PATHS`, status below 400) is not logged.
    """
    if (response.status_code < 400 and request.path in QUIET_PATHS) or not log.isEnabledFor(logging.INFO):
        return response  # (with INFO off, nothing of the line is worked out)
    who = principal()
    job_id = g.get("job_id") or (request.view_args or {}).get("job_id")
    fields = {"key_id": who.key_id, "tenant": who.tenant, "status": response.status_code}
    if job_id:
        fields["job_id"] = job_id
    log.info(
        "%s %s %d key=%s tenant=%s job=%s",
        request.method,
        request.path,
        response.status_code,
        who.key_id,
        who.tenant,
        job_id or "-",
        extra=fields,
    )
    return response


def bind_job() -> None:
    """before_request: the lines this request logs name the job its path names (none: forget the last)."""
    logs.unbind()
    job_id = (request.view_args or {}).get("job_id")
    if job_id:
        logs.bind(job_id=job_id)


def register(app: Flask) -> None:
    """Name the request's job on its log lines, and log every request once it has its answer."""
    app.before_request(bind_job)
    app.after_request(log_request)
