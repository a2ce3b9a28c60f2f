"""Caps as metadata on the fields they bound; the values live in `Limits`, the rules here.

`Annotated[int, Cap(maximum="image_max_steps")]` checks the field against the request's `Limits`
(passed as validation context) and marks its JSON Schema, which `apply_caps` fills with the values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from shared.settings import Limits

# The JSON Schema member that carries a cap until `apply_caps` writes its value.
MARK = "x-llmb-cap"
_KEYWORDS = {"minimum": "minimum", "maximum": "maximum", "max_length": "maxLength", "max_items": "maxItems"}


def limits_of(info: ValidationInfo) -> Limits:
    """The limits a validation runs under: the context's, else the defaults."""
    limits = (info.context or {}).get("limits")
    return limits if isinstance(limits, Limits) else Limits()


@dataclass(frozen=True)
class Cap:
    """Bounds of one field, each naming the `Limits` attribute that holds its value."""

    minimum: str | None = None
    maximum: str | None = None
    max_length: str | None = None
    max_items: str | None = None

    def bounds(self, limits: Limits) -> dict[str, Any]:
        """JSON Schema keyword -> value under `limits`."""
        return {
            _KEYWORDS[f.name]: getattr(limits, name)
            for f in fields(self)
            if (name := getattr(self, f.name)) is not None
        }

    def check(self, value: Any, info: ValidationInfo) -> Any:
        """Raise ValueError naming the bound `value` breaks."""
        for keyword, bound in self.bounds(limits_of(info)).items():
            if keyword == "minimum" and value < bound:
                raise ValueError(f"must be at least {bound}")
            if keyword == "maximum" and value > bound:
                raise ValueError(f"must be at most {bound}")
            if keyword == "maxLength" and len(value) > bound:
                raise ValueError(f"must be at most {bound} characters long")
            if keyword == "maxItems" and len(value) > bound:
                raise ValueError(f"must hold at most {bound} items")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema[MARK] = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        return json_schema


def apply_caps(schema: Any, limits: Limits) -> Any:
    """A copy of a JSON Schema with every cap mark replaced by its bounds under `limits`."""
    if isinstance(schema, list):
        return [apply_caps(item, limits) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: apply_caps(v, limits) for k, v in schema.items() if k != MARK}
    if MARK in schema:
        out.update(Cap(**schema[MARK]).bounds(limits))
    return out
