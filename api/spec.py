"""What each view tells the OpenAPI document beyond its route and docstring: body, parameters, answers.

Views carry it with `@documented(...)`; api/openapi.py reads it, with the routes from Flask's URL
map and each view's docstring as the operation's summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared.caps import MARK

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__openapi__"


@dataclass(frozen=True)
class Param:
    """A query or header parameter: its JSON Schema and what it means."""

    name: str
    where: str  # "query" or "header"
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class Answer:
    """A successful answer: its description and content (media type -> component schema name or None)."""

    description: str
    content: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """Everything a view adds to its operation in the document."""

    answers: dict[int, Answer]
    problems: tuple[int, ...] = ()
    body: str | None = None  # component schema name of the JSON request body
    params: tuple[Param, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    """The document's name for a type with no class name (`Annotated[A | B, ..., Component("Name")]`)."""

    name: str


def component_name(model: Any) -> str:
    """The component schema name of a pydantic model (its class name) or of an Annotated type naming one."""
    for meta in getattr(model, "__metadata__", ()):
        if isinstance(meta, Component):
            return meta.name
    name: str = model.__name__
    return name


def documented(
    answers: dict[int, Answer],
    *,
    problems: tuple[int, ...] = (),
    body: str | None = None,
    params: tuple[Param, ...] = (),
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Attach an `Operation` to a view function (the decorator goes under the route's)."""

    def attach(view: F) -> F:
        setattr(view, ATTRIBUTE, Operation(answers, problems, body, params, tags))
        return view

    return attach


def query(name: str, schema: dict[str, Any], description: str) -> Param:
    """An optional query parameter."""
    return Param(name, "query", schema, description)


def header(name: str, schema: dict[str, Any], description: str) -> Param:
    """An optional request header."""
    return Param(name, "header", schema, description)


def capped(schema: dict[str, Any], **caps: str) -> dict[str, Any]:
    """A parameter schema whose bounds are `Limits` settings (e.g. maximum="max_wait_s"), filled in later."""
    return {**schema, MARK: caps}


def json_answer(description: str, schema: str, **headers: str) -> Answer:
    """A JSON answer whose body is the named component schema."""
    return Answer(description, {"application/json": schema}, headers)
