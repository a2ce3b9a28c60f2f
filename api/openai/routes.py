"""The OpenAI-compatible routes under /v1, their errors in OpenAI's shape (api/problems.py)."""

from __future__ import annotations

from flask import Blueprint

from api import problems
from api.openai import catalog, chat, embeddings, images

bp = Blueprint("openai", __name__, url_prefix="/v1")
for _child in (chat.bp, embeddings.bp, images.bp, catalog.bp):
    bp.register_blueprint(_child)
problems.register_openai(bp)
