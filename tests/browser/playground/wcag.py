"""WCAG 2 contrast: the relative luminance of sRGB colours and the ratio between two."""

from __future__ import annotations

import re

RGBA = tuple[float, float, float, float]
WHITE: RGBA = (255.0, 255.0, 255.0, 1.0)


def parse(css: str) -> RGBA:
    """A computed colour, "rgb(r, g, b)" or "rgba(r, g, b, a)", as (r, g, b, a)."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    assert len(numbers) in (3, 4), css
    return (numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) == 4 else 1.0)


def over(top: RGBA, below: RGBA) -> RGBA:
    """`top` composited over an opaque `below`."""
    alpha = top[3]
    r, g, b = (top[i] * alpha + below[i] * (1 - alpha) for i in range(3))
    return (r, g, b, 1.0)


def backdrop(chain: list[str]) -> RGBA:
    """What shows behind an element: its own and its ancestors' backgrounds (nearest first) over white."""
    colour = WHITE
    for css in reversed(chain):
        colour = over(parse(css), colour)
    return colour


def luminance(colour: RGBA) -> float:
    """Relative luminance (WCAG 2.x), from 0 (black) to 1 (white)."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(text: RGBA, background: RGBA) -> float:
    """The contrast ratio of text over an opaque background, from 1 to 21."""
    lighter, darker = sorted((luminance(over(text, background)), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
