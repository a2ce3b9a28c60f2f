"""The app factory: it only wires settings, services, blueprints and error handlers."""

from __future__ import annotations

import logging

from flask import Flask

from api import events, jobs, legacy, openapi, ops, problems, results
from api.services import Services
from shared.settings import Settings, load_settings


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the API for the given settings (from the environment when none are given)."""
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.limits.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["llmb"] = services or Services.from_settings(settings)
    for blueprint in (ops.bp, jobs.bp, events.bp, results.bp, legacy.bp, openapi.bp):
        app.register_blueprint(blueprint)
    problems.register(app)
    return app
