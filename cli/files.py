"""Checks on the local files a command will write, made before it asks the server for anything."""

from __future__ import annotations

import os
from pathlib import Path


def cannot_write(output: str | None) -> str | None:
    """Why `-o output` cannot be written (a missing or read-only folder, a folder in its place), or None."""
    if not output or output == "-":
        return None
    path = Path(output).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"cannot write {output}: it is a folder; give a file name such as {path / 'out.png'}"
    if not folder.is_dir():
        return f"cannot write {output}: the folder {folder} does not exist (create it, or pick another -o)"
    if path.exists() and not os.access(path, os.W_OK):
        return f"cannot write {output}: the file is read-only"
    if not path.exists() and not os.access(folder, os.W_OK):
        return f"cannot write {output}: the folder {folder} is not writable"
    return None
