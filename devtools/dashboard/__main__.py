"""`python -m devtools.dashboard --out docs/dashboard.png`: run the real stack under a short mixed load,
scrape the API's and the worker's /metrics, and draw the dashboard's panels from what was scraped."""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from devtools.dashboard import load, panels, stack
from devtools.dashboard.draw import draw
from devtools.dashboard.series import Store, scrape


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where to write, how long to load, how often to scrape."""
    parser = argparse.ArgumentParser(prog="python -m devtools.dashboard", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard.png"), help="the PNG to write")
    parser.add_argument("--duration", type=float, default=75, help="seconds of load (default 75)")
    parser.add_argument("--scrape-every", type=float, default=1.5, help="seconds between scrapes")
    parser.add_argument("--rate-window", default="15s", help="what $__rate_interval stands for")
    return parser.parse_args(argv)


def observe(args: argparse.Namespace, root: Path) -> Store:
    """Start the stack, load it for the duration while scraping it, stop it; what was scraped."""
    admin = "llmb_dashboard00_" + secrets.token_urlsafe(32)
    observed = stack.start(
        root, models=stack.build_models(), api_env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": admin}
    )
    store = Store()
    targets = {"api": f"{observed.api_url}/metrics", "worker": observed.worker_metrics_url}
    try:
        keys = load.create_keys(observed.api_url, admin)
        with httpx.Client(timeout=10) as client:
            scrape(client, store, targets)
            running = load.run(observed.api_url, keys=keys, duration_s=args.duration)
            while not running.done():
                time.sleep(args.scrape_every)
                scrape(client, store, targets)
            print(dict(running.finish()), file=sys.stderr)
            time.sleep(args.scrape_every)
            scrape(client, store, targets)
    finally:
        observed.stack.stop()
    return store


def title(args: argparse.Namespace) -> str:
    """The picture's title: what it shows, on which machine, when."""
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"LLM Backend (deploy/grafana/llmb.json): a real {args.duration:.0f} s run on {machine}, {when}\n"
        f"x: seconds into the run. The API's and worker's /metrics scraped every {args.scrape_every:g} s; "
        f"each panel's PromQL evaluated in Python ($__rate_interval = {args.rate_window})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run, scrape and draw; 0 when the picture was written."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llmb-dashboard-") as root:
        store = observe(args, Path(root))
    draw(panels.load(), store, args.out, title=title(args), interval=args.rate_window)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
