"""The HTTP API: a Flask app factory that gunicorn calls as `api:create_app()`."""

from api.app import create_app

__all__ = ["create_app"]
