"""Each panel's queries answered by a real Prometheus (query_range), drawn with matplotlib on the
dashboard's grid."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter
from PIL import Image

from devtools.dashboard.panels import Panel, expand, legend
from devtools.dashboard.prometheus import Prometheus

Line = tuple[str, list[float], list[float]]
BACKGROUND, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
ROW_INCHES, TITLE_INCHES = 0.42, 1.1  # one row of Grafana's grid; the two-line title above the panels
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#f2495c", "#b877d9", "#8ab8ff", "#fade2a", "#ff9830"]


def _seconds(v: float) -> str:
    return f"{v * 1000:.0f} ms" if abs(v) < 1 else f"{v:.1f} s"


UNITS: dict[str, Callable[[float], str]] = {
    "s": _seconds,
    "bytes": lambda v: f"{v / 2**20:.0f} MiB",
    "percentunit": lambda v: f"{v * 100:.1f}%",
    "reqps": lambda v: f"{v:.1f} req/s",
    "ops": lambda v: f"{v:.2f}/s",
}


@dataclass(frozen=True)
class Window:
    """The stretch of time drawn: unix seconds, one point per `step` s, and what $__rate_interval means."""

    start: float
    end: float
    step: float
    interval: str


def lines(panel: Panel, server: Prometheus, window: Window) -> list[Line]:
    """The panel's series as Prometheus answers its queries over the window: (legend, x, y) each."""
    out: list[Line] = []
    for target in panel.targets:
        expr = expand(target.expr, interval=window.interval)
        found = server.query_range(expr, start=window.start, end=window.end, step=window.step)
        out += sorted(
            (
                legend(target.legend, series["metric"]),
                [float(at) - window.start for at, _ in series["values"]],
                [float(value) for _, value in series["values"]],
            )
            for series in found
        )
    return out


def _style(ax: Axes, panel: Panel) -> None:
    ax.set_facecolor(PANEL)
    ax.set_title(panel.title, color=TEXT, fontsize=10, loc="left")
    ax.tick_params(colors=TEXT, labelsize=7)
    ax.grid(color=GRID, linewidth=0.6)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: UNITS.get(panel.unit, "{:g}".format)(v)))


def _plot(ax: Axes, drawn: list[Line]) -> None:
    finite = [(name, xs, ys) for name, xs, ys in drawn if any(not math.isnan(y) for y in ys)]
    if not finite:
        ax.text(0.5, 0.5, "No data", color=TEXT, ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    for n, (name, xs, ys) in enumerate(finite):
        ax.plot(xs, ys, color=COLORS[n % len(COLORS)], linewidth=1.3, label=name)
    ax.set_ylim(bottom=0)
    shown = ax.legend(loc="upper left", fontsize=6.5, ncol=2 if len(finite) > 4 else 1, frameon=False)
    for text in shown.get_texts():
        text.set_color(TEXT)


def draw(
    panels: list[Panel], server: Prometheus, out: Path, *, title: str, window: Window
) -> dict[int, list[Line]]:
    """Draw every panel where the dashboard puts it and write the PNG to `out`; each panel's lines by id."""
    rows = max(p.y + p.h for p in panels)
    height = rows * ROW_INCHES + TITLE_INCHES
    fig = plt.figure(figsize=(18, height), facecolor=BACKGROUND)
    grid = fig.add_gridspec(rows, 24, left=0.04, right=0.99, top=1 - TITLE_INCHES / height, bottom=0.02)
    drawn = {}
    for panel in panels:
        ax = fig.add_subplot(grid[panel.y : panel.y + panel.h - 1, panel.x : panel.x + panel.w - 1])
        _style(ax, panel)
        drawn[panel.id] = lines(panel, server, window)
        _plot(ax, drawn[panel.id])
    fig.suptitle(title, color=TEXT, fontsize=11, x=0.04, y=1 - 0.15 / height, ha="left", va="top")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=72, facecolor=BACKGROUND)
    plt.close(fig)
    # A palette of 96 colours keeps the lines' antialiasing and makes the file a fraction of the size.
    with Image.open(out) as image:
        small = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    small.save(out, optimize=True)
    return drawn
