"""The one reader of numbers that come from outside (headers, query strings, a receiver's answer, argv).

Python's int() and float() take more than a client should send: "²" passes str.isdigit() but int()
refuses it, "١٢" (Arabic-Indic digits), "1_000", " 7 ", "nan", "inf" and "1e999" all convert. These
readers take ASCII digits only, finite and within the caller's range, and answer None for anything else,
so each caller says in its own words what it expected. Stdlib only: the CLI imports it too.
"""

from __future__ import annotations

import math
import re

_INTEGER = re.compile(r"[0-9]{1,30}", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?", re.ASCII)


def integer(text: str | None, *, low: int = 0, high: int | None = None) -> int | None:
    """`text` as an int from `low` to `high` (None: no bound); None unless only ASCII digits in range."""
    if text is None or not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if value >= low and (high is None or value <= high) else None


def decimal(text: str | None, *, low: float = 0.0, high: float | None = None) -> float | None:
    """`text` as a finite float such as 12 or 1.5 (ASCII digits, one optional point), in range; else None."""
    if text is None or not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        return None
    return value
