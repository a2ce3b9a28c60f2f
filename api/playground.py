"""The web playground: one static page under api/static/playground/, public, with a strict CSP.

The page's files are public (as /docs is); the API calls it makes carry the key the user typed.
Its HTML says whether this API needs keys, so the page asks for one without probing the API first.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, url_for
from markupsafe import escape

from api.auth import public
from api.services import services
from api.spec import Answer, documented
from shared.demo import demo_note

bp = Blueprint("playground", __name__)

PAGE = "static/playground/index.html"
AUTH_MARK = 'data-auth="unknown"'
DEMO_MARK = "<!-- demo-models -->"
# Scripts and styles from this origin only (no inline code), images also as blob: URLs (results are
# fetched with the key, then shown), no plugins, no framing, forms and <base> pinned to this origin.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@bp.get("/")
@documented({302: Answer("to the playground", headers={"Location": "/ui"})}, tags=("Playground",))
@public
def home() -> Response:
    """The web playground's address: a redirect to /ui."""
    return Response(status=302, headers={"Location": url_for("playground.page")})


@bp.get("/ui")
@documented({200: Answer("the page", {"text/html": None})}, tags=("Playground",))
@public
def page() -> Response:
    """The web playground: submit image, chat and embed jobs, follow the queues and your jobs."""
    html = resources.files("api").joinpath(PAGE).read_text(encoding="utf-8")
    auth = "on" if services().settings.auth_enabled else "off"
    html = html.replace(AUTH_MARK, f'data-auth="{auth}"', 1)
    html = html.replace(DEMO_MARK, demo_banner(), 1)
    return Response(html, mimetype="text/html", headers=_HEADERS)


def demo_banner() -> str:
    """The page's banner saying which models are the random-weight demo ones (empty when none is)."""
    note = demo_note(services().settings)
    if note is None:
        return ""
    return f'<p class="banner" data-testid="demo-models" role="note">{escape(note)}.</p>'
