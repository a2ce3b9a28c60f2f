"""The real stack with its metrics on: Redis, the API under gunicorn, and one worker for the three queues
with the small local models and LLMB_METRICS_PORT set (used by the dashboard picture and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devtools import REPO
from devtools.stack.deployment import Stack
from devtools.stack.process import free_port

MODELS = REPO / "var" / "models"
QUEUES = "image,chat,embed"


@dataclass(frozen=True)
class Observed:
    """A started stack and where its two /metrics endpoints answer."""

    stack: Stack
    api_url: str
    worker_metrics_url: str

    @property
    def targets(self) -> dict[str, str]:
        """Where to scrape: job name -> /metrics URL."""
        return {"api": f"{self.api_url}/metrics", "worker": self.worker_metrics_url}


def build_models(out: Path = MODELS) -> Path:
    """The small local models `make models` builds, built if missing."""
    from worker.tinymodels.__main__ import main as build

    if build(["--out", str(out)]) != 0:
        raise RuntimeError(f"building the small models under {out} failed")
    return out


def start(root: Path, *, models: Path, api_env: dict[str, str] | None = None) -> Observed:
    """Start Redis, the API (two gunicorn processes) and a worker serving metrics; stop the stack after."""
    stack = Stack(root)
    try:
        stack.start_redis()
        api = stack.start_api(workers=2, env=api_env)
        port = free_port()
        stack.start_worker(
            queues=QUEUES,
            name="observed",
            env={
                "LLMB_METRICS_PORT": str(port),
                "LLMB_IMAGE_MODEL": str(models / "tiny-sd"),
                "LLMB_CHAT_MODEL": str(models / "tiny-chat"),
                "LLMB_BATCH_MAX": "4",
                "LLMB_BATCH_WAIT_MS": "50",
            },
        )
    except BaseException:
        stack.stop()
        raise
    return Observed(stack, f"http://127.0.0.1:{api.port}", f"http://127.0.0.1:{port}/metrics")
