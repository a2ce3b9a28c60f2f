"""The app factory: it only wires settings, services, blueprints and error handlers."""

from __future__ import annotations

from flask import Flask

from api import (
    audit,
    auth,
    events,
    guards,
    jobs,
    keys,
    legacy,
    metrics,
    openapi,
    ops,
    playground,
    problems,
    results,
    webhooks,
)
from api.openai import routes as openai_routes
from api.services import Services
from shared import logs
from shared.settings import Settings, load_settings


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the API for the given settings (from the environment when none are given)."""
    settings = settings or load_settings()
    settings.auth_enabled  # noqa: B018 - refuses to build an API exposed without keys unless told
    logs.configure(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.limits.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["llmb"] = services or Services.from_settings(settings)
    if settings.metrics:
        metrics.register(app)
    for blueprint in (ops.bp, jobs.bp, events.bp, results.bp, legacy.bp, keys.bp, webhooks.bp, openapi.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(openai_routes.bp)
    app.register_blueprint(playground.bp)
    app.config["TRUSTED_HOSTS"] = None if settings.public_url else settings.trusted_hosts
    app.before_request(guards.check_host)
    auth.register(app)
    app.before_request(guards.check_body_type)
    app.before_request(guards.check_ids)
    app.before_request(guards.check_query)
    guards.enable_cors(app, settings.cors_origin_list)
    problems.register(app)
    audit.register(app)
    return app
