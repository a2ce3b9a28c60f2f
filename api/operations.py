"""A view declared once: its route, the scopes it needs, its body's model, its answers.

`@operation(bp.post(""), answers, scopes=..., body=Model)` stands for the stack every view repeated
(the route, `@documented`, `@requires` or `@public`, reading the body): from these it registers the
route, marks the scopes (api/auth.py), documents the operation (api/spec.py, read by api/openapi.py)
with the refusals its body implies, and hands the view its body parsed into the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from api.auth import PUBLIC, public, requires
from api.body import read_body
from api.services import services
from api.spec import Answer, Param, component_name, documented
from shared.auth import Scope

F = TypeVar("F", bound=Callable[..., Any])

# What reading a JSON body can answer: not JSON (400), too slow (408), too big (413), not
# application/json (415, api/guards.py), a field the model refuses (422).
BODY_PROBLEMS = (400, 408, 413, 415, 422)


def operation(
    route: Callable[[Callable[..., Any]], Any],
    answers: dict[int, Answer],
    *,
    scopes: tuple[Scope, ...],
    body: Any = None,
    problems: tuple[int, ...] = (),
    params: tuple[Param, ...] = (),
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register the view on `route`, needing one of `scopes` (PUBLIC: none), documented with `answers`.

    With `body` (a pydantic model, or an Annotated union named by `spec.Component`), the view is
    called with the request's body parsed into it first, and the document lists BODY_PROBLEMS too.
    """

    def declare(view: F) -> F:
        handler = _with_body(view, body) if body is not None else view
        needs = public if scopes == PUBLIC else requires(*scopes)
        name = component_name(body) if body is not None else None
        implied = BODY_PROBLEMS if body is not None else ()
        documented(
            answers,
            problems=tuple(sorted(set(problems) | set(implied))),
            body=name,
            params=params,
            tags=tags,
        )(needs(handler))
        route(handler)
        return cast(F, handler)

    return declare


def _with_body(view: Callable[..., Any], model: Any) -> Callable[..., Any]:
    """The view called with the request's body parsed into `model` as its first argument."""

    @functools.wraps(view)
    def parsed(**path: Any) -> Any:
        return view(read_body(model, services().settings.limits), **path)

    return parsed
