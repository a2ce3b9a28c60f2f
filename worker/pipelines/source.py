"""Where a pipeline's weights come from: a local folder or a hub id."""

from __future__ import annotations

from pathlib import Path


def resolve_model(model: str) -> str:
    """The path or hub id to load, or FileNotFoundError for a local folder that is missing."""
    if Path(model).exists():
        return model
    is_hub_id = model.count("/") == 1 and not model.startswith((".", "/", "~"))
    if is_hub_id:
        return model
    raise FileNotFoundError(f"model folder {model} does not exist (run `make models`)")
