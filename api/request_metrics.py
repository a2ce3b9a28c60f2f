"""Every request counted by method, route template and status, and timed: a WSGI middleware.

Registered by api/metrics.py (with the rest of the API's metrics) when LLMB_METRICS is on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Histogram

from api.body_deadline import StartResponse, WsgiApp

REQUESTS = Counter(
    "llmb_http_requests_total", "HTTP requests answered", ["method", "route", "status"], registry=None
)
LATENCY = Histogram("llmb_http_request_duration_seconds", "HTTP request durations", ["route"], registry=None)
# Label values a client cannot choose: any other method, and any path no route matches, count as OTHER.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


class RequestMetrics:
    """WSGI middleware: count each request by method, route template and status, and time it to its answer.

    Outside Flask's hooks, so no context-local lookups: the route is the matched rule of the request
    Flask made (werkzeug keeps it in the environ), the status what the app started its answer with;
    the time ends when the answer starts (an event stream counts until it opens).
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        # Each labelled child once: `labels()` takes a lock and converts its values on every call. The
        # keys are bounded: METHODS or OTHER, the URL map's rules or OTHER, and the statuses answered.
        self._counted: dict[tuple[str, str, str], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve the request; count and time it when its answer starts."""
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            # Flask's request is still in the environ here (it is dropped once the app returns).
            self._record(environ, status[:3], time.perf_counter() - started)
            return start_response(status, headers, *rest)

        return self.app(environ, start)

    def _record(self, environ: dict[str, Any], status: str, seconds: float) -> None:
        rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
        route = rule.rule if rule is not None else OTHER
        method = environ.get("REQUEST_METHOD", "")
        key = (method if method in METHODS else OTHER, route, status)
        counted = self._counted.get(key)
        if counted is None:
            counted = self._counted[key] = REQUESTS.labels(*key)
        counted.inc()
        timed = self._timed.get(route)
        if timed is None:
            timed = self._timed[route] = LATENCY.labels(route)
        timed.observe(seconds)
