"""Who may call what: each view names the scopes it needs (`@requires`) or is `@public`.

A view that names nothing needs the admin scope, so a new route is closed until someone opens it.
With auth off (a loopback API, or LLMB_AUTH=off) every request acts as the anonymous principal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from api.services import services
from shared.auth import ANONYMOUS, Principal, Scope
from shared.errors import ForbiddenError, UnauthorizedError

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

SCOPES_ATTRIBUTE = "__scopes__"
PUBLIC: tuple[Scope, ...] = ()
_ADMIN_ONLY = (Scope.ADMIN,)


def requires(*scopes: Scope) -> Callable[[F], F]:
    """The view needs a key holding any one of `scopes` (admin holds every scope)."""

    def mark(view: F) -> F:
        setattr(view, SCOPES_ATTRIBUTE, scopes)
        return view

    return mark


def public(view: F) -> F:
    """The view answers without a key (liveness, readiness, the documents)."""
    setattr(view, SCOPES_ATTRIBUTE, PUBLIC)
    return view


def scopes_of(view: Callable[..., Any] | None) -> tuple[Scope, ...]:
    """The scopes a view needs (one of them); () for a public view, admin when it names none."""
    return tuple(getattr(view, SCOPES_ATTRIBUTE, _ADMIN_ONLY))


def principal() -> Principal:
    """Who the current request acts for."""
    found: Principal = g.get("principal", ANONYMOUS)
    return found


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError(
            "an API key is required: send the header Authorization: Bearer <key>", reason="missing"
        )
    return token.strip()


def authenticate() -> None:
    """before_request: find the principal and check the view's scopes; 401 or 403 otherwise.

    An OPTIONS request is a CORS preflight (browsers send it without credentials) or asks what a
    route allows: it is answered without a key and runs no view.
    """
    if request.method == "OPTIONS":
        return
    endpoint = request.endpoint
    view = current_app.view_functions.get(endpoint or "")
    needed = scopes_of(view) if view is not None and endpoint != "static" else PUBLIC
    if not needed:
        return  # a public view (the probes): no key to look at
    svc = services()
    if not svc.settings.auth_enabled:
        return
    try:
        found = svc.keyring.principal(_bearer_token())
    except UnauthorizedError as exc:
        key_id = exc.extra.get("key_id")
        log.warning("authentication failed on %s %s: %s (key %s)", request.method, request.path, exc, key_id)
        raise
    g.principal = found
    if not any(found.allows(s) for s in needed):
        names = " or ".join(s.value for s in needed)
        raise ForbiddenError(f"this key lacks the scope {names}", key_id=found.key_id)


def register(app: Flask) -> None:
    """Check every request's key before its view runs (with auth off, no request has one to check)."""
    if app.extensions["llmb"].settings.auth_enabled:
        app.before_request(authenticate)
