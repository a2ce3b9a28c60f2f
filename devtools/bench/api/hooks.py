"""What each request hook costs on GET /health, in µs a request: the API called as a WSGI app, in process.

`python -m devtools.bench.api.hooks [--n 20000] [--rounds 5] [--out docs/BENCHMARKS.md]`

Every variant is the same app with one hook left out (a before/after/teardown handler or a WSGI
middleware, found on the app and taken out here only, put back after), timed over `n` GET /health
requests built once with werkzeug's EnvironBuilder; a hook's cost is the whole app's time less the
time without it. Rounds alternate between the variants and each figure is the least of its rounds'
(CPU time of this thread: other load on a shared machine only ever adds to it). The bare Flask app of
`make bench` is timed beside them.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response

HEADING = "## Request hooks on GET /health (devtools/bench/api/hooks.py)"
# What hey sends (make bench's load), to a loopback API with its default settings.
HEADERS = {"Host": "127.0.0.1:8000", "User-Agent": "hey/0.0.1", "Accept-Encoding": "gzip"}
ON = {"auth": "on", "admin_key": "bench-admin-key-0123456789abcdef", "cors_origins": "https://app.example"}
CONFIGS: dict[str, dict[str, str]] = {"default settings": {}, "auth on, CORS on": ON}
WHOLE, NONE, BARE = "the whole app", "no hook and no middleware at all", "bare Flask (bench/api/bare_app.py)"
ALONE = "alone: "  # the key of a handler's own time, beside its name's (the app without it)
Restore = Callable[[], None]


@dataclass(frozen=True)
class Hook:
    """One hook of the app, and how to take it out (the callable returned puts it back)."""

    name: str
    leave_out: Callable[[], Restore]
    kind: str = "middleware"
    func: Callable[..., Any] | None = None  # a handler, which can also be timed alone


def _removing(funcs: list[Any], func: Any) -> Callable[[], Restore]:
    def leave_out() -> Restore:
        at = funcs.index(func)
        funcs.pop(at)
        return lambda: funcs.insert(at, func)

    return leave_out


def _unwrapping(app: Flask, middleware: Any) -> Callable[[], Restore]:
    def leave_out() -> Restore:
        holder: Any = app
        attribute = "wsgi_app"  # the app's; each middleware's is `app`
        while getattr(holder, attribute) is not middleware:
            holder, attribute = getattr(holder, attribute), "app"
        setattr(holder, attribute, middleware.app)
        return lambda: setattr(holder, attribute, middleware)

    return leave_out


def hooks_of(app: Flask) -> list[Hook]:
    """Every app-wide request handler and WSGI middleware of `app`, in the order they run."""
    found = []
    handlers = (
        ("before_request", app.before_request_funcs.get(None, [])),
        ("after_request", app.after_request_funcs.get(None, [])),
        ("teardown_request", app.teardown_request_funcs.get(None, [])),
        ("teardown_appcontext", app.teardown_appcontext_funcs),
    )
    for kind, funcs in handlers:
        for func in funcs:
            name = f"{kind} {func.__module__}.{func.__qualname__}"
            found.append(Hook(name, _removing(funcs, func), kind, func))
    layer: Any = app.wsgi_app
    while hasattr(layer, "app"):
        cls = type(layer)
        found.append(Hook(f"middleware {cls.__module__}.{cls.__qualname__}", _unwrapping(app, layer)))
        layer = layer.app
    return found


def _start_response(status: str, headers: list[tuple[str, str]], *rest: Any) -> None:
    if not status.startswith("200"):
        raise RuntimeError(f"GET /health answered {status}")


def cpu_us(app: Callable[..., Iterable[bytes]], environ: dict[str, Any], n: int) -> float:
    """CPU µs a request for `n` requests (a fresh copy of `environ` each), bodies read and closed."""
    start = time.thread_time_ns()
    for _ in range(n):
        body = app(dict(environ), _start_response)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
    return (time.thread_time_ns() - start) / n / 1000


def alone_us(app: Flask, hook: Hook, environ: dict[str, Any], n: int) -> float | None:
    """CPU µs a call of the handler alone, `n` calls inside one GET /health request's context.

    An after_request handler gets a fresh answer each call (what making one costs is taken off).
    """
    if hook.func is None:
        return None
    func, fresh = hook.func, functools.partial(Response, b'{"status":"ok"}\n', mimetype="application/json")
    with app.request_context(dict(environ)):
        app.full_dispatch_request()  # the request matched and answered once, as the handlers expect
        start = time.thread_time_ns()
        if hook.kind == "after_request":
            for _ in range(n):
                func(fresh())
            made = time.thread_time_ns()
            for _ in range(n):
                fresh()
            return (2 * made - start - time.thread_time_ns()) / n / 1000
        for _ in range(n):
            func() if hook.kind == "before_request" else func(None)
        return (time.thread_time_ns() - start) / n / 1000


def build(overrides: dict[str, str]) -> Flask:
    """The API as gunicorn's gevent worker serves it: multiprocess metrics on, the body bound armed."""
    from api import create_app
    from shared.settings import load_settings

    app = create_app(load_settings(**overrides))
    layer: Any = app.wsgi_app
    while hasattr(layer, "app"):
        if hasattr(layer, "enabled"):
            layer.enabled = True  # gevent's sockets are not patched here: arm it as under gunicorn
        layer = layer.app
    return app


def measure(n: int, rounds: int) -> dict[str, dict[str, float]]:
    """µs a request by config and variant (least of `rounds` alternated rounds of `n` requests)."""
    from werkzeug.test import EnvironBuilder

    from devtools.bench.api.bare_app import create_app as bare_app

    environ = EnvironBuilder(path="/health", headers=list(HEADERS.items())).get_environ()
    apps = {config: build(overrides) for config, overrides in CONFIGS.items()}
    bare = bare_app()
    best: dict[str, dict[str, float]] = {config: {} for config in apps}
    try:
        for _ in range(rounds):
            for config, app in apps.items():
                for variant, took in _round(app, environ, n).items():
                    best[config][variant] = min(best[config].get(variant, took), took)
                took = cpu_us(bare, environ, n)
                best[config][BARE] = min(best[config].get(BARE, took), took)
    finally:
        for app in apps.values():
            app.extensions["llmb"].close()
    return best


def _round(app: Flask, environ: dict[str, Any], n: int) -> dict[str, float]:
    """One timing of the whole app, of it without each hook in turn, and without any."""
    cpu_us(app, environ, n // 10)  # warm-up
    out = {WHOLE: cpu_us(app, environ, n)}
    hooks = hooks_of(app)
    for hook in hooks:
        alone = alone_us(app, hook, environ, n)
        if alone is not None:
            out[ALONE + hook.name] = alone
        restore = hook.leave_out()
        try:
            out[hook.name] = cpu_us(app, environ, n)
        finally:
            restore()
    restores = [hook.leave_out() for hook in hooks]
    try:
        out[NONE] = cpu_us(app, environ, n)
    finally:
        for restore in reversed(restores):
            restore()
    out[WHOLE] = min(out[WHOLE], cpu_us(app, environ, n))  # timed first and last: no place favoured
    return out


def table(best: dict[str, dict[str, float]]) -> str:
    """The markdown table, per config: µs a request without each hook, what that saved, the hook alone."""
    configs = list(best)
    head = " | ".join(f"{c}: µs a request | saves µs | alone µs" for c in configs)
    lines = [f"| variant | {head} |", "| --- |" + " --- | --- | --- |" * len(configs)]
    found = dict.fromkeys(name for c in configs for name in best[c])
    names = [name for name in found if name not in (BARE, NONE) and not name.startswith(ALONE)]
    for name in [*names, NONE, BARE]:
        cells = []
        for c in configs:
            took, whole, alone = best[c].get(name), best[c][WHOLE], best[c].get(ALONE + name)
            saved = "" if took is None or name == WHOLE else f"{whole - took:+.1f}"
            alone_text = "" if alone is None else f"{alone:.2f}"
            cells.append(("—" if took is None else f"{took:.1f}") + f" | {saved} | {alone_text}")
        label = name if name in (WHOLE, NONE, BARE) else f"without {name}"
        lines.append(f"| {label} | {' | '.join(cells)} |")
    ratios = ", ".join(f"{c}: {best[c][BARE] / best[c][WHOLE]:.2f}" for c in configs)
    return "\n".join([*lines, "", f"Bare Flask ÷ the whole app, in process: {ratios}."])


NOTES = """Each figure is CPU µs a request (this thread's CPU time, the least of the rounds, so other load
on the shared 2-core machine adds as little as it can; the figures still move by several percent between
runs, so read the savings beside the whole app's figure of the same run). "saves" is the whole app less
the variant: differences of a few µs are within the noise. "alone" is the handler called by itself
`n` times inside one /health request's context (an after_request handler on a fresh answer each time,
the cost of making it taken off): steadier, but without Flask's own cost of calling it (about 0.3 µs).
The app is `api.create_app()` with the settings shown (a loopback bind, so auth is off by default),
prometheus-client in multiprocess mode as under gunicorn,
and the body-deadline middleware armed as under gevent; requests carry hey's headers and no body. No
server, socket or gevent is involved: under gunicorn each request also pays for those, so a hook's
share of a served request is smaller than here."""


def main(argv: list[str] | None = None) -> None:
    """Time the variants and print the table; write it into a markdown file's section when asked."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.api.hooks", description=__doc__)
    parser.add_argument("--n", type=int, default=20_000, help="requests a timing")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from devtools.bench.api.report import OtherLoad, render_section
    from devtools.bench.document import write_section

    command = " ".join(["python -m devtools.bench.api.hooks", *(argv if argv is not None else sys.argv[1:])])
    other = OtherLoad()
    with tempfile.TemporaryDirectory(prefix="llmb-hooks-") as metrics_dir:
        # Before prometheus-client is imported: its values are then the mmap-backed multiprocess ones.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        found = table(measure(args.n, args.rounds))
    section = render_section(command, found, other.cores(), heading=HEADING, notes=NOTES)
    print(section)
    if args.out:
        write_section(args.out, section, HEADING)


if __name__ == "__main__":
    main()
