"""deploy/grafana/llmb.json is a well-formed dashboard whose every query parses (test_scrape.py has a
real Prometheus answer each one and draws the picture from its answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devtools.dashboard import panels
from tests.observability.expressions import dashboard, dashboard_expressions, parse

COLUMNS = 24
# Grafana 11.0 writes schemaVersion 39; provisioning migrates older models, so anything from there on.
MIN_SCHEMA = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _walk(value, f"{path}[{n}]")


def test_dashboard_has_an_identity_and_a_recent_schema() -> None:
    model = dashboard()
    assert model["uid"] == "llmb-overview"
    assert model["title"]
    assert model["schemaVersion"] >= MIN_SCHEMA
    assert "id" not in model or model["id"] is None, "an exported id collides on import; leave it out"


def test_panel_ids_are_unique() -> None:
    ids = [p["id"] for p in dashboard()["panels"]]
    assert len(ids) == len(set(ids)), ids


def test_every_panel_has_queries_with_an_expression_and_a_ref_id() -> None:
    for panel in dashboard()["panels"]:
        targets = panel.get("targets", [])
        assert targets, f"panel {panel['id']} has no targets"
        assert all(t.get("expr", "").strip() for t in targets), panel["id"]
        refs = [t["refId"] for t in targets]
        assert len(refs) == len(set(refs)), panel["id"]


def test_panels_fit_the_24_columns_and_do_not_overlap() -> None:
    taken: dict[tuple[int, int], int] = {}
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["id"]
        assert grid["w"] > 0, panel["id"]
        assert grid["h"] > 0, panel["id"]
        assert grid["x"] + grid["w"] <= COLUMNS, panel["id"]
        for cell in (
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        ):
            assert cell not in taken, f"panels {taken[cell]} and {panel['id']} overlap at {cell}"
            taken[cell] = panel["id"]


def test_the_datasource_is_a_prometheus_variable() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_no_datasource_uid_is_hard_coded() -> None:
    uids = {(path, value) for path, value in _walk(dashboard()) if path.endswith(".uid") and path != ".uid"}
    assert uids
    assert {value for _, value in uids} == {"${datasource}"}, sorted(uids)
    for panel in dashboard()["panels"]:
        assert panel["datasource"] == DATASOURCE, panel["id"]
        assert all(t["datasource"] == DATASOURCE for t in panel["targets"]), panel["id"]


@pytest.mark.parametrize(
    ("where", "expr"), dashboard_expressions(), ids=[w for w, _ in dashboard_expressions()]
)
def test_every_query_parses(where: str, expr: str) -> None:
    assert parse(expr) is not None, where


def test_the_picture_reads_the_panels_in_the_dashboards_order() -> None:
    loaded = panels.load()
    assert {p.id for p in loaded} == {p["id"] for p in dashboard()["panels"]}
    assert [(p.y, p.x) for p in loaded] == sorted((p.y, p.x) for p in loaded)
