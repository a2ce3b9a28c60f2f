from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from shared.settings import Settings

AppFor = Callable[..., Flask]


@pytest.fixture
def app_for(settings: Settings) -> Iterator[AppFor]:
    """Build apps from these settings (or others, or with overrides); each is closed after the test."""
    apps: list[Flask] = []

    def build(other: Settings | None = None, **overrides: object) -> Flask:
        app = create_app(other or settings.model_copy(update=overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["llmb"].close()


@pytest.fixture
def app(app_for: AppFor) -> Flask:
    return app_for()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
