"""A variant's own stack: Redis, the API under gunicorn and one chat worker, all from the variant's tree."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from devtools import REPO
from devtools.bench.api.compare import Variant, start_api
from devtools.stack.deployment import WORKER_READY_S, Stack
from devtools.stack.process import Service, spawn, wait_until
from shared import redis_keys
from shared.vocabulary import JobType

CHAT_MODEL = REPO / "var" / "models" / "tiny-chat"
# Event streams are capped per key and tenant (100 and 250 by default): allow one per job of a larger load.
STREAMS = {"LLMB_LIMITS__KEY_MAX_STREAMS": "100000", "LLMB_LIMITS__TENANT_MAX_STREAMS": "100000"}


@dataclass
class VariantStack:
    """One variant's processes, its API's address and a Redis client for its idle checks."""

    variant: Variant
    stack: Stack
    base_url: str
    redis: Redis
    worker_pid: int

    def wait_idle(self) -> None:
        """Wait until the chat queue's Celery list is empty (no delivery left over), then a moment more."""
        queue = redis_keys.celery_queue(JobType.CHAT)
        wait_until(lambda: not self.redis.llen(queue), timeout=120, what="the chat queue drained", every=0.1)
        time.sleep(0.5)

    def stop(self) -> None:
        """Stop the worker, the API and Redis."""
        self.redis.close()
        self.stack.stop()


def revision(variant: Variant) -> str:
    """The commit a variant runs: its tree's HEAD, marked when that tree has uncommitted changes."""

    def git(*args: str) -> str:
        cmd = ["git", "-C", str(variant.tree), *args]
        return subprocess.run(cmd, check=False, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else head


def start_stack(root: Path, variant: Variant) -> VariantStack:
    """Start the variant's Redis, its API (the tree's default two gunicorn workers) and one chat worker."""
    stack = Stack(root / variant.label.replace(" ", "-"))
    variant.env = {**STREAMS, **variant.env}
    try:
        stack.start_redis()
        api = start_api(stack, variant, workers=2)
        worker = start_chat_worker(stack, variant)
    except BaseException:
        stack.stop()
        raise
    redis = Redis.from_url(stack.env["LLMB_REDIS_URL"])
    return VariantStack(variant, stack, f"http://127.0.0.1:{api.port}", redis, worker.pid)


def start_chat_worker(stack: Stack, variant: Variant) -> Service:
    """One Celery worker on the chat queue with the tree's default settings and the tiny chat model."""
    name = f"{variant.label.replace(' ', '-')}-chat-worker"
    ready = stack.root / "ready" / name
    extra = {
        **variant.env,
        "LLMB_QUEUES": "chat",
        "LLMB_CHAT_MODEL": str(CHAT_MODEL.resolve()),
        "LLMB_READY_FILE": str(ready),
    }
    env = stack.child_env(extra) | {"PYTHONPATH": str(variant.tree)}
    cmd = [sys.executable, "-m", "worker"]
    svc = spawn(name, cmd, log_dir=stack.root / "logs", env=env, cwd=variant.tree)
    stack.services.append(svc)
    wait_until(ready.exists, timeout=WORKER_READY_S, what=f"worker {variant.label}", proc=svc.proc)
    return svc
