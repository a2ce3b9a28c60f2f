"""`make run`: Redis, the API, the webhook sender, the batch runner and a worker, data under ./var, until
a stop signal."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from devtools import REPO
from devtools.stack.checks import invalid_values, refusals
from devtools.stack.console import LogTail, ready_text, say, user_settings
from devtools.stack.deployment import API_READY_S, WEBHOOKS_READY_S, WORKER_READY_S, Stack
from devtools.stack.process import InterruptedWaitError, free_port, port_open
from devtools.stack.supervisor import (
    API_GRACE_S,
    REDIS_GRACE_S,
    WEBHOOKS_GRACE_S,
    WORKER_GRACE_S,
    RunLockedError,
    StopRequests,
    hold_run_lock,
    stop_all,
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where the API listens, which queues the worker takes, where data lives."""
    parser = argparse.ArgumentParser(prog="python -m devtools.stack", description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--queues", default="image,chat,embed")
    parser.add_argument("--root", type=Path, default=REPO / "var", help="the data folder (one run at a time)")
    parser.add_argument("--redis-port", type=int, help="default: 6379 when free, else any free port")
    return parser.parse_args(argv)


def _in_use(port: int) -> bool:
    try:
        return port_open(port)()
    except OSError:
        return False


def start(stack: Stack, args: argparse.Namespace, settings: dict[str, str], tail: LogTail) -> None:
    """Redis (on 6379 when free: the default needs no variable), then the API, the sender and a worker."""
    redis_port = args.redis_port or (6379 if not _in_use(6379) else free_port())
    stack.start_redis(port=redis_port, appendonly=True).grace_s = REDIS_GRACE_S
    say(f"redis-server on 127.0.0.1:{redis_port} (data in {stack.root / 'redis'})", sys.stdout)
    workers = {"LLMB_API_WORKERS": settings.get("LLMB_API_WORKERS", "2")}
    api = stack.start_api(port=args.port, env=workers, wait=False)
    api.grace_s = API_GRACE_S
    # Started before the worker, so stopped after it: the worker's last job ends still tell their webhooks.
    # Its payloads' links follow the API's address (LLMB_PUBLIC_URL, when set, wins).
    webhooks = stack.start_webhooks(env={"LLMB_API_BIND": f"127.0.0.1:{args.port}"}, wait=False)
    webhooks.grace_s = WEBHOOKS_GRACE_S
    batches = stack.start_batches(env={"LLMB_API_BIND": f"127.0.0.1:{args.port}"}, wait=False)
    batches.grace_s = WEBHOOKS_GRACE_S
    worker = stack.start_worker(queues=args.queues, name="worker", wait=False)
    worker.grace_s = WORKER_GRACE_S
    tail.follow([api, webhooks, batches, worker])
    say(
        f"starting the API on 127.0.0.1:{args.port}, the webhook sender, the batch runner and a worker for "
        f"{args.queues} "
        "(loading models)",
        sys.stdout,
    )
    stack.wait_ready(api, timeout=API_READY_S)
    stack.wait_ready(webhooks, timeout=WEBHOOKS_READY_S)
    stack.wait_ready(batches, timeout=WEBHOOKS_READY_S)
    stack.wait_ready(worker, timeout=WORKER_READY_S)


def watch(stack: Stack, requests: StopRequests, tail: LogTail) -> list[str]:
    """Echo this run's logs until a stop signal comes or a service exits; the services that exited."""
    while not requests():
        tail.pump()
        dead = [s.name for s in stack.services if s.proc.poll() is not None]
        if dead:
            return dead
        time.sleep(0.2)
    return []


def serve(stack: Stack, args: argparse.Namespace, requests: StopRequests, tail: LogTail) -> int:
    """Start everything, print the ready text, then follow the logs until told to stop or a service dies."""
    settings = user_settings(os.environ)
    try:
        start(stack, args, settings, tail)
    except InterruptedWaitError:
        return 0
    except (RuntimeError, TimeoutError) as exc:
        say(f"{exc}; its log follows, and all are under {stack.root / 'logs'}", sys.stderr)
        return 1
    say(ready_text(port=args.port, root=args.root, settings=settings), sys.stdout)
    dead = watch(stack, requests, tail)
    if dead:
        say(f"stopping: {', '.join(dead)} exited", sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C (or a service dies), then stop everything, worker first."""
    args = parse(argv)
    refused = refusals(os.environ) or invalid_values()
    if refused:
        say("\n".join(["make run will not start:", *(f"  {line}" for line in refused)]), sys.stderr)
        return 2
    requests = StopRequests()
    requests.install()  # before any child exists: a signal from now on is counted, never raised
    root = args.root.resolve()
    try:
        hold_run_lock(root)
    except RunLockedError as exc:
        say(str(exc), sys.stderr)
        return 1
    if _in_use(args.port):
        say(f"port {args.port} is taken; stop what runs there or use `make run PORT=...`", sys.stderr)
        return 1
    stack = Stack(root, inherit_env=True, interrupted=requests)
    tail = LogTail(sys.stdout)
    try:
        return serve(stack, args, requests, tail)
    finally:
        stop_all(stack, requests, lambda text: say(text, sys.stdout))
        tail.close()  # the services' last words: how they stopped
        say("stopped", sys.stdout)
