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
    usage,
    webhooks,
)
from api.batches.routes import bp as batches_bp
from api.body_deadline import BodyDeadline
from api.files import bp as files_bp
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
    app.wsgi_app = BodyDeadline(app.wsgi_app, settings.limits.body_timeout_s)  # type: ignore[method-assign]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["llmb"] = services or Services.from_settings(settings)
    if settings.metrics:
        metrics.register(app)
    for blueprint in (
        ops.bp,
        jobs.bp,
        events.bp,
        results.bp,
        legacy.bp,
        keys.bp,
        webhooks.bp,
        openapi.bp,
        usage.bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(openai_routes.bp)
    app.register_blueprint(files_bp)
    app.register_blueprint(batches_bp)
    app.register_blueprint(playground.bp)
    app.before_request(guards.check_arrival(app))  # the Host (not werkzeug's TRUSTED_HOSTS: api/hosts.py)
    auth.register(app)
    app.before_request(guards.check_request)
    guards.enable_cors(app, settings.cors_origin_list)
    problems.register(app)
    audit.register(app)
    return app
