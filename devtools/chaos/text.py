"""How the report writes counts and seconds."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """`n` and the word, with an s unless n is 1."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def seconds(value: float) -> str:
    """Seconds as the report writes them: two decimals under one second, one above."""
    return f"{value:.2f} s" if value < 1 else f"{value:.1f} s"
