"""A whole local deployment (Redis, optional S3, the API under gunicorn, workers) as child processes."""

from __future__ import annotations

import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devtools.servers import (
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    Service,
    free_port,
    spawn,
    start_redis,
    start_s3,
    wait_until,
)

REPO = Path(__file__).resolve().parent.parent


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


@dataclass
class Stack:
    """Processes sharing one set of LLMB_ settings; `stop` ends them all."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    redis: Service | None = None
    s3: Service | None = None

    def start_redis(self, *, port: int | None = None, appendonly: bool = False) -> Service:
        self.redis = start_redis(self.root / "redis", port=port, appendonly=appendonly)
        self.services.append(self.redis)
        self.env["LLMB_REDIS_URL"] = f"redis://127.0.0.1:{self.redis.port}/0"
        return self.redis

    def start_s3(self, *, bucket: str = "llmb") -> Service:
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
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLMB_")}
        env.setdefault("LLMB_DATA_DIR", str(self.root))
        env.update(self.env)
        env.update(extra or {})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        return env

    def start_api(
        self, *, port: int | None = None, workers: int = 1, env: dict[str, str] | None = None
    ) -> Service:
        port = port or free_port()
        extra = {"LLMB_API_BIND": f"127.0.0.1:{port}", "LLMB_API_WORKERS": str(workers), **(env or {})}
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "api" / "gunicorn_conf.py")]
        svc = spawn(f"api-{port}", cmd, log_dir=self.root / "logs", env=self.child_env(extra), port=port)
        self.services.append(svc)
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{port}/health"), timeout=60, what="the API", proc=svc.proc
        )
        return svc

    def start_worker(
        self,
        *,
        queues: str = "image",
        name: str | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> Service:
        name = name or f"worker-{queues.replace(',', '+')}-{len(self.services)}"
        ready = self.root / "ready" / name
        ready.unlink(missing_ok=True)
        extra = {"LLMB_QUEUES": queues, "LLMB_READY_FILE": str(ready), **(env or {})}
        cmd = [sys.executable, "-m", "worker"]
        svc = spawn(name, cmd, log_dir=self.root / "logs", env=self.child_env(extra))
        svc.extra["ready_file"] = str(ready)
        self.services.append(svc)
        if wait:
            wait_until(ready.exists, timeout=180, what=f"worker {name}", proc=svc.proc)
        return svc

    def stop(self) -> None:
        for svc in reversed(self.services):
            svc.stop()
        self.services.clear()
