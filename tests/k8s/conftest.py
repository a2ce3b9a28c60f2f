"""The overlays rendered once per session; tests that break them on purpose work on deep copies."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from tests.k8s.manifests import KUSTOMIZATIONS, KubectlMissingError, Obj, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Obj]]:
    try:
        return {name: render(path) for name, path in KUSTOMIZATIONS.items()}
    except KubectlMissingError as exc:
        missing = str(exc)
    pytest.fail(missing, pytrace=False)  # outside the except block, so the message stands alone


@pytest.fixture
def fresh(rendered: dict[str, list[Obj]]) -> Callable[[str], list[Obj]]:
    """A deep copy of one overlay's objects, free to break."""
    return lambda name: copy.deepcopy(rendered[name])
