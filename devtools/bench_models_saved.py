"""The last run's results per shape set and device, so a later `--only` run shows both job types."""

from __future__ import annotations

import pickle
from pathlib import Path

from devtools.bench_models_plan import Plan
from devtools.bench_models_report import KindResults
from devtools.shapes import Shapes
from devtools.stack import REPO

SAVED = REPO / "var" / "bench-models"


def _path(shapes: Shapes, device: str) -> Path:
    return SAVED / f"{shapes.name}-{device}.pickle"


def merge_saved(
    measured: dict[str, KindResults], *, plan: Plan, shapes: Shapes, device: str, merge: bool
) -> dict[str, KindResults]:
    """Save `measured`; when `merge`, first add the job types it lacks from a saved run of the same plan."""
    path = _path(shapes, device)
    if merge and path.exists():
        try:
            saved_plan, saved = pickle.loads(path.read_bytes())
        except (pickle.UnpicklingError, AttributeError, EOFError, ImportError, TypeError, ValueError) as exc:
            print(f"ignoring {path}: {exc}")
        else:
            if saved_plan == plan:
                measured = {**saved, **measured}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((plan, measured)))
    return measured
