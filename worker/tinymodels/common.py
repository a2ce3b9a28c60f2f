"""Helpers both builders share: making saved files readable to all (and `quiet`, re-exported)."""

from __future__ import annotations

from pathlib import Path

from worker.pipelines.source import quiet

__all__ = ["make_readable", "quiet"]


def make_readable(root: Path) -> None:
    """Add group and other read permission to every file under `root`."""
    # safetensors writes weights through a private temp file (mode 0600), so a folder built as root
    # would be unreadable to a worker running as another user in the same image.
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(path.stat().st_mode | 0o044)
