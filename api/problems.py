"""The one place errors become application/problem+json answers (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from api import signals
from shared.errors import (
    BodyTooLargeError,
    ForbiddenError,
    LimitedError,
    ServiceError,
    UnauthorizedError,
    UnavailableError,
)
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
        log.warning("%s %s answered %d: %s", request.method, request.path, exc.status, exc)
    if isinstance(exc, LimitedError):
        response.headers.update({"Retry-After": str(exc.retry_after_s), **exc.headers})
        signals.limit_refused.send(exc.code.value)
    if isinstance(exc, UnauthorizedError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="llmb"'
        signals.auth_refused.send(exc.reason)
    if isinstance(exc, ForbiddenError):
        signals.auth_refused.send("forbidden")
    return response


def _http_error(exc: HTTPException) -> Response:
    if _under_openai(request.path):  # no route matched, so no blueprint's handler: by its path
        return _openai_http_error(exc)
    code = (exc.name or "error").lower().replace(" ", "_")
    answer = _answer(problem_body(exc.code or 500, code, exc.name or "Error", exc.description or ""))
    return _with_allow(answer, exc)


def _with_allow(response: Response, exc: HTTPException) -> Response:
    """A 405 names the methods the path takes (RFC 9110's Allow); other answers are left as they are."""
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


def _under_openai(path: str) -> bool:
    """True for a path under /v1/ that is not one of the native routes': OpenAI's clients call it."""
    head = path.split("/")[2] if path.startswith("/v1/") else None
    if head is None:
        return False
    native = {
        rule.rule.split("/")[2]
        for rule in current_app.url_map.iter_rules()
        if rule.rule.startswith("/v1/") and not rule.endpoint.startswith("openai.")
    }
    return head not in native


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


# The OpenAI-compatible routes answer errors in OpenAI's shape, {"error": {message, type, param, code}},
# with the statuses its SDKs map to their exception classes; the native routes keep problem+json.
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def openai_error(
    status: int, message: str, *, code: str | None, param: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An error body in OpenAI's shape; `extra` adds members (such as the job id) to the error object."""
    kind = _OPENAI_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code, **extra}}


def openai_body(exc: ServiceError) -> dict[str, Any]:
    """A service error in OpenAI's shape: `param` names the field, `code` the reason."""
    param = getattr(exc, "param", None) or (str(exc.errors[0]["field"]) if exc.errors else None)
    code = getattr(exc, "openai_code", None) or exc.code.value
    return openai_error(exc.status, str(exc), code=code, param=param, **exc.extra)


def _openai_service_error(exc: ServiceError) -> Response:
    response = _service_error(exc)  # the same status, headers and counts as the problem answer
    response.set_data(json.dumps(openai_body(exc)))
    response.mimetype = "application/json"
    if "job_id" in exc.extra:
        response.headers["X-Job-Id"] = str(exc.extra["job_id"])
    should_retry = getattr(exc, "should_retry", None)
    if should_retry is not None:  # the OpenAI SDKs obey it over their status rules
        response.headers["X-Should-Retry"] = "true" if should_retry else "false"
    return response


def _openai_http_error(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "error"
    if exc.code in (404, 405) and request.url_rule is None:  # OpenAI's words for a routing error
        message = f"Invalid URL ({request.method} {request.path})"
    body = openai_error(exc.code or 500, message, code=code)
    answer = Response(json.dumps(body), status=exc.code or 500, mimetype="application/json")
    return _with_allow(answer, exc)


def _openai_too_large(exc: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return _openai_service_error(BodyTooLargeError(f"the body is over the limit of {limit} bytes"))


def _openai_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    body = openai_error(500, "the server failed; the error is logged", code=ErrorCode.INTERNAL.value)
    return Response(json.dumps(body), status=500, mimetype="application/json")


def register_openai(bp: Blueprint) -> None:
    """Answer every error of the blueprint's routes (their auth and body checks too) in OpenAI's shape."""
    bp.register_error_handler(ServiceError, _openai_service_error)
    bp.register_error_handler(RequestEntityTooLarge, _openai_too_large)
    bp.register_error_handler(HTTPException, _openai_http_error)
    bp.register_error_handler(Exception, _openai_unexpected)
