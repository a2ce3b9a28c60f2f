"""Text from the server or the model, shown on a terminal without letting it drive the terminal.

A reply holding `ESC ]0;title BEL` would retitle the window and `ESC [2J` would clear it: on a
terminal every C0 control but tab and newline (ESC, BEL, BS, CR, NUL, ...), DEL, and every C1
control (U+0080-U+009F, CSI U+009B among them) is shown as `\\xNN` instead. Each character is
escaped on its own, so text printed piece by piece is escaped the same as text printed whole.
Pipes and files get the text as it is, and so does a terminal with --raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TextIO

Shower = Callable[[str], str]

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with each control character but tab and newline written as `\\xNN`."""
    return _CONTROLS.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


def as_is(text: str) -> str:
    """`text` unchanged."""
    return text


def is_terminal(stream: TextIO) -> bool:
    """True when `stream` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


def shower_for(stream: TextIO, *, raw: bool) -> Shower:
    """How to show outside text on `stream`: escaped on a terminal unless `raw`, else as it is."""
    return as_is if raw or not is_terminal(stream) else escape_controls
