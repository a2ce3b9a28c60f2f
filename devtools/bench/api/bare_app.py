"""A bare Flask app with only /health: the baseline `make bench` holds the API's /health against."""

from __future__ import annotations

from flask import Flask, Response, jsonify


def health() -> Response:
    """The same body as the API's liveness answer."""
    return jsonify(status="ok")


def create_app() -> Flask:
    """The bare app that gunicorn serves as `devtools.bench.api.bare_app:create_app()`."""
    app = Flask(__name__)
    app.add_url_rule("/health", view_func=health, methods=["GET"])
    return app
