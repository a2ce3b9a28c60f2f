"""The one place errors become application/problem+json answers (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.errors import BodyTooLargeError, LimitedError, ServiceError, UnauthorizedError, UnavailableError
from shared.vocabulary import ErrorCode

log = logging.getLogger(__name__)

PROBLEM_TYPE = "urn:llmb:problem:{code}"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The members of a problem answer: RFC 9457's, plus `code` and any `extra` (e.g. `errors`)."""
    return {
        "type": PROBLEM_TYPE.format(code=code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "code": code,
        **extra,
    }


def _answer(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=body["status"], mimetype="application/problem+json")


def _service_error(exc: ServiceError) -> Response:
    extra: dict[str, Any] = dict(exc.extra)
    if exc.errors:
        extra["errors"] = exc.errors
    response = _answer(problem_body(exc.status, exc.code, exc.title, str(exc), **extra))
    if isinstance(exc, UnavailableError):
        response.headers["Retry-After"] = "1"
    if isinstance(exc, LimitedError):
        response.headers.update({"Retry-After": str(exc.retry_after_s), **exc.headers})
    if isinstance(exc, UnauthorizedError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="llmb"'
    return response


def _http_error(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    return _answer(problem_body(exc.code or 500, code, exc.name or "Error", exc.description or ""))


def _too_large(exc: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return _service_error(BodyTooLargeError(f"the body is over the limit of {limit} bytes"))


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _answer(
        problem_body(500, ErrorCode.INTERNAL, "Internal error", "the server failed; the error is logged")
    )


def register(app: Flask) -> None:
    """Install the handlers that answer every error as problem+json."""
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
