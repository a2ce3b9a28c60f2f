"""Each panel's queries evaluated over the scraped series, drawn with matplotlib on the dashboard's grid."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter
from PIL import Image

from devtools.dashboard import promql
from devtools.dashboard.panels import Panel, expand, legend
from devtools.dashboard.series import Labels, Store

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


def lines(panel: Panel, store: Store, *, interval: str) -> list[Line]:
    """The panel's series: each query evaluated at every scrape, one line per label set (legend, x, y)."""
    start = store.times[0] if store.times else 0.0
    out: list[Line] = []
    for target in panel.targets:
        tree = promql.parse(expand(target.expr, interval=interval))
        points: dict[Labels, tuple[list[float], list[float]]] = {}
        for at in store.times:
            value = promql.evaluate(tree, store, at)
            vector = {frozenset(): value} if isinstance(value, float) else value
            for labels, y in vector.items():
                xs, ys = points.setdefault(labels, ([], []))
                xs.append(at - start)
                ys.append(y)
        out += [
            (legend(target.legend, dict(labels)), xs, ys)
            for labels, (xs, ys) in sorted(points.items(), key=str)
        ]
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


def draw(panels: list[Panel], store: Store, out: Path, *, title: str, interval: str) -> None:
    """Draw every panel where the dashboard puts it and write the PNG to `out`."""
    rows = max(p.y + p.h for p in panels)
    height = rows * ROW_INCHES + TITLE_INCHES
    fig = plt.figure(figsize=(18, height), facecolor=BACKGROUND)
    grid = fig.add_gridspec(rows, 24, left=0.04, right=0.99, top=1 - TITLE_INCHES / height, bottom=0.02)
    for panel in panels:
        ax = fig.add_subplot(grid[panel.y : panel.y + panel.h - 1, panel.x : panel.x + panel.w - 1])
        _style(ax, panel)
        _plot(ax, lines(panel, store, interval=interval))
    fig.suptitle(title, color=TEXT, fontsize=11, x=0.04, y=1 - 0.15 / height, ha="left", va="top")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=72, facecolor=BACKGROUND)
    plt.close(fig)
    # A palette of 96 colours keeps the lines' antialiasing and makes the file a fraction of the size.
    with Image.open(out) as image:
        small = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    small.save(out, optimize=True)
