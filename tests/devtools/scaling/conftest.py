"""The rendered overlays the simulation reads its thresholds from, rendered once per session."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import KUSTOMIZATIONS, KubectlMissingError, Obj, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Obj]]:
    try:
        return {"minikube": render(KUSTOMIZATIONS["minikube"])}
    except KubectlMissingError as exc:
        missing = str(exc)
    pytest.fail(missing, pytrace=False)  # outside the except block, so the message stands alone
