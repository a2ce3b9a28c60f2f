"""Helpers both builders share: hushing diffusers and transformers, and making saved files readable to all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import diffusers.utils.logging as diffusers_logging
import transformers.utils.logging as transformers_logging


@contextmanager
def quiet() -> Iterator[None]:
    """Log only errors and hide both libraries' progress bars inside the block, then restore both."""
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


def make_readable(root: Path) -> None:
    """Add group and other read permission to every file under `root`."""
    # safetensors writes weights through a private temp file (mode 0600), so a folder built as root
    # would be unreadable to a worker running as another user in the same image.
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(path.stat().st_mode | 0o044)
