"""The caps on job inputs, as one table that both validation and the OpenAPI document read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.settings import Limits


@dataclass(frozen=True)
class Cap:
    """One bound: a JSON Schema keyword and the `Limits` field holding its value."""

    keyword: str  # minimum, maximum, maxLength (of a text or of each text in a list), maxItems
    limit: str


_SIDE = [Cap("minimum", "image_min_side"), Cap("maximum", "image_max_side")]


CAPS: dict[str, dict[str, list[Cap]]] = {
    "ImageInput": {
        "prompt": [Cap("maxLength", "prompt_max_chars")],
        "negative_prompt": [Cap("maxLength", "prompt_max_chars")],
        "width": _SIDE,
        "height": _SIDE,
        "steps": [Cap("maximum", "image_max_steps")],
        "guidance_scale": [Cap("maximum", "image_max_guidance")],
        "num_images": [Cap("maximum", "image_max_count")],
    },
    "ChatInput": {
        "messages": [Cap("maxItems", "chat_max_messages")],
        "max_tokens": [Cap("maximum", "chat_max_tokens")],
        "stop": [Cap("maxItems", "chat_max_stops")],
    },
    "EmbedInput": {
        "input": [Cap("maxItems", "embed_max_inputs"), Cap("maxLength", "embed_max_chars")],
    },
    "LegacyGenerate": {"text": [Cap("maxLength", "prompt_max_chars")]},
}


def check_caps(model: str, field: str, value: Any, limits: Limits) -> None:
    """Raise ValueError naming the bound when `value` breaks one of the field's caps."""
    for cap in CAPS.get(model, {}).get(field, []):
        bound = getattr(limits, cap.limit)
        if cap.keyword == "minimum" and value < bound:
            raise ValueError(f"must be at least {bound}")
        if cap.keyword == "maximum" and value > bound:
            raise ValueError(f"must be at most {bound}")
        if cap.keyword == "maxItems" and isinstance(value, list) and len(value) > bound:
            raise ValueError(f"must hold at most {bound} items")
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if cap.keyword == "maxLength" and any(isinstance(t, str) and len(t) > bound for t in texts):
            raise ValueError(f"texts must be at most {bound} characters long")


def apply_caps(schemas: dict[str, Any], limits: Limits) -> None:
    """Write the caps into JSON Schemas of the capped models, in place."""
    for model, fields in CAPS.items():
        properties = schemas.get(model, {}).get("properties", {})
        for field, caps in fields.items():
            for cap in caps:
                for branch in _branches(properties.get(field, {})):
                    _apply(branch, cap.keyword, getattr(limits, cap.limit))


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]


# Which schema type each keyword constrains.
_APPLIES_TO = {
    "minimum": ("integer", "number"),
    "maximum": ("integer", "number"),
    "maxItems": ("array",),
    "maxLength": ("string",),
}


def _apply(branch: dict[str, Any], keyword: str, bound: int | float) -> None:
    kind = branch.get("type")
    if kind in _APPLIES_TO[keyword]:
        branch[keyword] = bound
    elif keyword == "maxLength" and kind == "array" and branch.get("items", {}).get("type") == "string":
        branch["items"][keyword] = bound
