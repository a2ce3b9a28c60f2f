"""`python -m devtools.dashboard --out docs/dashboard.png`: run the real stack under a short mixed load,
with a real Prometheus scraping the API's and the worker's /metrics, and draw the dashboard's panels
from what Prometheus answers to each panel's queries."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from devtools.dashboard import load, panels, prometheus, stack
from devtools.dashboard.draw import Window, draw


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where to write, how long to load, how often Prometheus scrapes."""
    parser = argparse.ArgumentParser(prog="python -m devtools.dashboard", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard.png"), help="the PNG to write")
    parser.add_argument("--duration", type=float, default=75, help="seconds of load (default 75)")
    parser.add_argument("--scrape-every", type=float, default=1.0, help="Prometheus' scrape interval, s")
    parser.add_argument("--rate-window", default="15s", help="what $__rate_interval stands for")
    return parser.parse_args(argv)


def observe(args: argparse.Namespace, api_url: str, admin: str, server: prometheus.Prometheus) -> Window:
    """Load the API for the duration while Prometheus scrapes it; the stretch of time to draw."""
    keys = load.create_keys(api_url, admin)
    started = time.time()
    running = load.run(api_url, keys=keys, duration_s=args.duration)
    print(dict(running.finish()), file=sys.stderr)
    ended = time.time()
    # Every target scraped once more after the load: the last points hold what it did.
    server.wait_for("min(timestamp(up))", ended + args.scrape_every)
    return Window(started, ended + args.scrape_every, args.scrape_every, args.rate_window)


def title(args: argparse.Namespace) -> str:
    """The picture's title: what it shows, on which machine, when."""
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"LLM Backend (deploy/grafana/llmb.json): a real {args.duration:.0f} s run on {machine}, {when}\n"
        f"x: seconds into the run. Prometheus scraped the API's and worker's /metrics every "
        f"{args.scrape_every:g} s and answered each panel's queries ($__rate_interval = {args.rate_window})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the stack and Prometheus, load, draw; 0 when the picture was written."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llmb-dashboard-") as tmp, contextlib.ExitStack() as running:
        root = Path(tmp)
        admin = "llmb_dashboard00_" + secrets.token_urlsafe(32)
        api_env = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": admin}
        observed = stack.start(root, models=stack.build_models(), api_env=api_env)
        running.callback(observed.stack.stop)
        server = prometheus.start(root, observed.targets, scrape_s=args.scrape_every)
        running.callback(server.stop)
        server.wait_for("count(up == 1)", len(observed.targets))  # every target scraped: the load may start
        window = observe(args, observed.api_url, admin, server)
        draw(panels.load(), server, args.out, title=title(args), window=window)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
