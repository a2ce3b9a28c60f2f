"""The panels of deploy/grafana/llmb.json as data: title, unit, place on the grid, and queries."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from devtools import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "llmb.json"
# Grafana's interval variables, given a value the way Grafana would for a short, densely scraped range.
INTERVALS = ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}")
LEGEND_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Target:
    """One query of a panel: its PromQL and its legend format (`{{label}}` placeholders)."""

    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    """A dashboard panel: where it sits on Grafana's 24-column grid, its unit and its queries."""

    id: int
    title: str
    unit: str
    x: int
    y: int
    w: int
    h: int
    targets: tuple[Target, ...]


def load(path: Path = DASHBOARD) -> list[Panel]:
    """The dashboard's panels, in reading order (top to bottom, left to right)."""
    model = json.loads(path.read_text(encoding="utf-8"))
    panels = []
    for raw in model["panels"]:
        grid = raw["gridPos"]
        targets = tuple(Target(t["expr"], t.get("legendFormat", "")) for t in raw.get("targets", []))
        unit = raw.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        panels.append(
            Panel(raw["id"], raw["title"], unit, grid["x"], grid["y"], grid["w"], grid["h"], targets)
        )
    return sorted(panels, key=lambda p: (p.y, p.x))


def expand(expr: str, *, interval: str) -> str:
    """The expression with Grafana's interval variables replaced by `interval` (such as `20s`)."""
    for variable in INTERVALS:
        expr = expr.replace(variable, interval)
    return expr


def legend(fmt: str, labels: dict[str, str]) -> str:
    """A series' name as Grafana shows it: the legend format with `{{label}}` filled in."""
    if not fmt:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return LEGEND_FIELD.sub(lambda m: labels.get(m[1], ""), fmt).strip()
