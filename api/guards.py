"""What browsers and odd clients must not get through: foreign Hosts, non-JSON bodies, other origins.

- DNS rebinding: without LLMB_PUBLIC_URL, links come from the request's Host, so only the trusted
  hosts (LLMB_ALLOWED_HOSTS; by default the bind address, localhost, 127.0.0.1) are answered (400).
- A web page can make a browser POST text/plain or a form to a local API without a CORS preflight;
  state-changing routes take only JSON bodies (415), and a route that reads a body needs one.
- An id in the path that is not shaped like one is unknown (404) before any view builds a key from it.
- CORS stays off unless LLMB_CORS_ORIGINS lists origins (flask-cors then answers for them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, current_app, request

from api.hosts import TrustedHosts
from api.spec import ATTRIBUTE
from shared import ids
from shared.errors import (
    BadHostError,
    BodyTooLargeError,
    InputError,
    NotFoundError,
    UnsupportedMediaTypeError,
)

_CHANGES_STATE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MULTIPART = "__multipart__"  # a view marked so takes a multipart/form-data upload (POST /v1/files)


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def check_arrival(app: Flask) -> Callable[[], None]:
    """A before_request hook, run before the key is looked at: the Host (400), then the body's size (413).

    A Host the API does not answer for is refused (names compared case-insensitively), unless
    LLMB_PUBLIC_URL is set (links never come from the Host then); the trusted list is read once.
    """
    settings = app.extensions["llmb"].settings
    trusted = None if settings.public_url else TrustedHosts(settings.trusted_hosts)

    def check_host_and_size() -> None:
        environ = request.environ
        if trusted is not None:
            sent = environ.get("HTTP_HOST", "")  # as request.headers["Host"], without building them
            if not trusted.allows(sent):
                raise BadHostError(f"the Host {sent!r} is not one this API answers for")
        if environ.get("CONTENT_LENGTH", "0") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ:
            check_body_size()  # (no body, as every probe: nothing to measure)

    return check_host_and_size


def check_request() -> None:
    """before_request, once the key is checked: the body's type (415), ids in the path (404), the query (422).

    One hook for the three (each of Flask's hooks costs a call): a probe, a bodiless GET without path
    parameters or a query string, passes each with one look.
    """
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if req.method in _CHANGES_STATE:
        check_body_type()
    if req.view_args:
        check_ids()
    if req.environ.get("QUERY_STRING"):
        check_query()


def check_body_type() -> None:
    """(check_request) 415 for a state-changing request whose body is not JSON, or lacks one it needs."""
    if request.method not in _CHANGES_STATE:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    needs_body = getattr(getattr(view, ATTRIBUTE, None), "body", None) is not None
    if getattr(view, MULTIPART, False) and request.mimetype == "multipart/form-data":
        return
    has_body = (
        bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )
    if (needs_body or has_body) and not _is_json(request.mimetype):
        sent = request.mimetype or "no Content-Type"
        raise UnsupportedMediaTypeError(
            f"send the body as JSON with the header Content-Type: application/json (got {sent})"
        )


def check_query() -> None:
    """(check_request) 422 naming a query parameter a route that takes some does not know.

    As a body's unknown field is refused, so is a misspelt `?limt=5` on a route with query
    parameters, rather than quietly ignored; a route that takes none ignores any (cache busters).
    """
    if not request.environ.get("QUERY_STRING"):
        return  # no parameters (every probe): none to refuse
    known = _query_params(current_app.view_functions.get(request.endpoint or ""))
    unknown = sorted(set(request.args) - known) if known else []
    if unknown:
        message = f"is not a query parameter here (it takes {', '.join(sorted(known))})"
        raise InputError(
            f"{unknown[0]!r} {message}", errors=[{"field": name, "message": message} for name in unknown]
        )


@functools.cache
def _query_params(view: Callable[..., Any] | None) -> frozenset[str]:
    """The query parameters a view documents (once per view: the views are the modules' functions)."""
    operation = getattr(view, ATTRIBUTE, None)
    return frozenset(p.name for p in getattr(operation, "params", ()) if p.where == "query")


# Path parameters that name something stored, with their shapes: anything else is not found.
_ID_PARAMS = {"job_id": ("job", ids.is_job_id), "key_id": ("key", ids.is_key_id)}


def check_ids() -> None:
    """(check_request) 404, as for an unknown one, for a job or key id that does not have an id's shape."""
    for name, value in (request.view_args or {}).items():
        what, valid = _ID_PARAMS.get(name, ("", None))
        if valid is not None and not valid(str(value)):
            raise NotFoundError(f"no {what} {value}")


def enable_cors(app: Flask, origins: list[str]) -> None:
    """Answer cross-origin requests from these origins only (none: CORS stays off)."""
    if origins:
        from flask_cors import CORS

        exposed = ["Location", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Job-Id"]
        CORS(app, origins=origins, expose_headers=exposed)


def check_body_size() -> None:
    """(check_arrival) 413 for a body over the limit on any route, those that never read one included."""
    environ = request.environ
    length = environ.get("CONTENT_LENGTH")
    if (not length or length == "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        return  # no body (every probe): nothing to measure
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, MULTIPART, False) and request.mimetype == "multipart/form-data":
        return  # an upload (POST /v1/files) is held to its own, larger cap (LLMB_LIMITS__FILE_MAX_BYTES)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLargeError(f"the body is over the limit of {limit} bytes")
    # A chunked body on a route that reads none: read past the limit, or to its end, to know. (Only
    # one sent chunked: a request without a body, such as every probe, costs no read.)
    framing = environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    chunked = "chunked" in framing and environ.get("wsgi.input_terminated")
    if chunked and request.method not in _CHANGES_STATE:
        read = environ["wsgi.input"].read(limit + 1)
        if len(read) > limit:
            raise BodyTooLargeError(f"the body is over the limit of {limit} bytes")
