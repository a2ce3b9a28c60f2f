"""A whole local deployment (Redis, optional S3, the API, workers, the webhook sender) as child processes."""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devtools import REPO
from devtools.stack.process import Service, free_port, never, spawn, wait_until
from devtools.stack.sentinel import SentinelSet
from devtools.stack.servers import S3_ACCESS_KEY, S3_SECRET_KEY, start_redis, start_s3

API_READY_S = 60
WORKER_READY_S = 180
WEBHOOKS_READY_S = 30


def http_ok(url: str) -> bool:
    """Whether `url` answers 200."""
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


@dataclass
class Stack:
    """Processes sharing one set of LLMB_ settings; `stop` ends them all, the last started first.

    Its services see `env` over this process's environment less its LLMB_ variables, unless
    `inherit_env` (as `make run` does, so the user's settings reach every service): tests build
    their settings explicitly and never pick up a developer's.
    """

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    redis: Service | None = None
    s3: Service | None = None
    inherit_env: bool = False
    interrupted: Callable[[], bool] = never

    def start_redis(self, *, port: int | None = None, appendonly: bool = False) -> Service:
        """A redis-server with its data under root/redis; the services get its URL."""
        self.redis = start_redis(self.root / "redis", port=port, appendonly=appendonly)
        self.services.append(self.redis)
        self.env["LLMB_REDIS_URL"] = f"redis://127.0.0.1:{self.redis.port}/0"
        return self.redis

    def start_redis_sentinel(self, *, replicas: int = 2, min_replicas: int = 0) -> SentinelSet:
        """A master, `replicas` replicas and three sentinels under root/redis-set; services ask the latter."""
        redis_set = SentinelSet(self.root / "redis-set", services=self.services, min_replicas=min_replicas)
        redis_set.start(replicas=replicas)
        self.env.update(redis_set.env)
        return redis_set

    def stop_redis(self) -> int:
        """Stop Redis (it writes its append-only file first); its port, to start it there again."""
        if self.redis is None:
            raise RuntimeError("no Redis runs in this stack")
        port = self.redis.port
        self.redis.stop()
        self.services.remove(self.redis)
        self.redis = None
        return port

    def start_s3(self, *, bucket: str = "llmb") -> Service:
        """A SeaweedFS S3 server under root/s3; the services store their results in it."""
        self.s3 = start_s3(self.root / "s3", bucket=bucket)
        self.services.append(self.s3)
        url = f"http://127.0.0.1:{self.s3.port}"
        self.env.update(
            LLMB_STORAGE="s3",
            LLMB_S3_ENDPOINT_URL=url,
            LLMB_S3_BUCKET=bucket,
            LLMB_S3_ACCESS_KEY=S3_ACCESS_KEY,
            LLMB_S3_SECRET_KEY=S3_SECRET_KEY,
        )
        return self.s3

    def child_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A service's environment: ours (LLMB_ ones only when inherited), then the stack's, then `extra`."""
        env = {k: v for k, v in os.environ.items() if self.inherit_env or not k.startswith("LLMB_")}
        env.setdefault("LLMB_DATA_DIR", str(self.root))
        env.update(self.env)
        env.update(extra or {})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        return env

    def start_api(
        self,
        *,
        port: int | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> Service:
        """The API under gunicorn on 127.0.0.1:`port`; `wait` for its /health unless told not to."""
        port = port or free_port()
        extra = {"LLMB_API_BIND": f"127.0.0.1:{port}", "LLMB_API_WORKERS": str(workers), **(env or {})}
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "api" / "gunicorn_conf.py")]
        svc = spawn(f"api-{port}", cmd, log_dir=self.root / "logs", env=self.child_env(extra), port=port)
        svc.ready = lambda: http_ok(f"http://127.0.0.1:{port}/health")
        self.services.append(svc)
        if wait:
            self.wait_ready(svc, timeout=API_READY_S)
        return svc

    def start_worker(
        self,
        *,
        queues: str = "image",
        name: str | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> Service:
        """A Celery worker for `queues`; `wait` until it has loaded its pipelines unless told not to."""
        name = name or f"worker-{queues.replace(',', '+')}-{len(self.services)}"
        ready = self.root / "ready" / name
        ready.unlink(missing_ok=True)
        extra = {"LLMB_QUEUES": queues, "LLMB_READY_FILE": str(ready), **(env or {})}
        cmd = [sys.executable, "-m", "worker"]
        svc = spawn(name, cmd, log_dir=self.root / "logs", env=self.child_env(extra))
        svc.extra["ready_file"] = str(ready)
        svc.ready = ready.exists
        self.services.append(svc)
        if wait:
            self.wait_ready(svc, timeout=WORKER_READY_S)
        return svc

    def start_webhooks(
        self, *, name: str = "webhooks", env: dict[str, str] | None = None, wait: bool = True
    ) -> Service:
        """The webhook sender (`python -m webhooks`); `wait` until it has reached Redis unless told not to."""
        return self._start_module(name, "webhooks", env=env, wait=wait)

    def start_batches(
        self, *, name: str = "batches", env: dict[str, str] | None = None, wait: bool = True
    ) -> Service:
        """The batch runner (`python -m api.batches`); `wait` until it reached Redis unless told not to."""
        return self._start_module(name, "api.batches", env=env, wait=wait)

    def _start_module(self, name: str, module: str, *, env: dict[str, str] | None, wait: bool) -> Service:
        """`python -m module`, ready once it writes its ready file (it has reached Redis)."""
        ready = self.root / "ready" / name
        ready.unlink(missing_ok=True)
        extra = {"LLMB_READY_FILE": str(ready), **(env or {})}
        cmd = [sys.executable, "-m", module]
        svc = spawn(name, cmd, log_dir=self.root / "logs", env=self.child_env(extra))
        svc.ready = ready.exists
        self.services.append(svc)
        if wait:
            self.wait_ready(svc, timeout=WEBHOOKS_READY_S)
        return svc

    def wait_ready(self, svc: Service, *, timeout: float) -> None:
        """Wait until `svc` is ready; raise early if it dies or the stack is asked to stop."""
        check = svc.ready or (lambda: True)
        wait_until(check, timeout=timeout, what=svc.name, proc=svc.proc, interrupted=self.interrupted)

    def stop(self) -> None:
        """Stop every service, the last started first: SIGTERM, then SIGKILL of its group after its grace."""
        while self.services:
            self.services.pop().stop()
