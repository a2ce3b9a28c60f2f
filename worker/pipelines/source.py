"""Where a pipeline's weights come from: a local folder or a hub id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def resolve_model(model: str) -> str:
    """The path or hub id to load, or FileNotFoundError for a local folder that is missing."""
    if Path(model).exists():
        return model
    is_hub_id = model.count("/") == 1 and not model.startswith((".", "/", "~"))
    if is_hub_id:
        return model
    raise FileNotFoundError(f"model folder {model} does not exist (run `make models`)")


@contextmanager
def quiet() -> Iterator[None]:
    """Log only errors and hide diffusers' and transformers' progress bars inside the block."""
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    libraries = (diffusers_logging, transformers_logging)
    saved = [(lib, lib.get_verbosity(), lib.is_progress_bar_enabled()) for lib in libraries]
    for lib in libraries:
        lib.set_verbosity_error()
        lib.disable_progress_bar()
    try:
        yield
    finally:
        for lib, verbosity, bars in saved:
            lib.set_verbosity(verbosity)
            if bars:
                lib.enable_progress_bar()
