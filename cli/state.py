"""What `llmb` remembers between runs, in the user's state folder ($XDG_STATE_HOME/llmb, else
~/.local/state/llmb): the API URLs whose demo-model note was shown. Memory is best effort: a folder
that cannot be read or written is a run that remembers nothing, never a failed command."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

DEMO_NOTED = "demo-noted"  # one API URL a line


def state_dir(env: Mapping[str, str]) -> Path | None:
    """The folder `llmb` keeps its state in, per the XDG Base Directory spec; None without a home."""
    xdg = env.get("XDG_STATE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the spec says a relative path is to be ignored
        return Path(xdg) / "llmb"
    home = env.get("HOME", "")
    return Path(home) / ".local" / "state" / "llmb" if home else None


def demo_noted(folder: Path | None, url: str) -> bool:
    """Whether the demo-model note was already shown for the API at `url` (False when unreadable)."""
    if folder is None:
        return False
    try:
        return url in (folder / DEMO_NOTED).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False


def remember_demo_noted(folder: Path | None, url: str) -> None:
    """Record that the demo-model note was shown for `url`; a folder that cannot be written is skipped."""
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / DEMO_NOTED).open("a", encoding="utf-8") as file:
            file.write(url + "\n")
    except OSError:
        return
