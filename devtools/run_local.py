"""`make run`: Redis, the API and a worker on this machine, data under ./var, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from devtools.servers import Service, free_port, port_open
from devtools.stack import REPO, Stack

EXAMPLE = """
LLM Backend is ready: API on http://127.0.0.1:{port}, data under {root}

  curl -X POST localhost:{port}/v1/jobs \\
       -d '{{"type":"image","input":{{"prompt":"a red fox","width":128,"height":96,"steps":2}}}}'
  curl localhost:{port}/v1/jobs/<id>?wait=30
  curl -o fox.png localhost:{port}/v1/jobs/<id>/result
  .venv/bin/llmb --url http://127.0.0.1:{port} submit image "a red fox" --wait -o fox.png

API docs: http://127.0.0.1:{port}/docs    Ctrl-C stops everything.
"""


class LogTail:
    """Follows the services' log files and echoes new lines with the service's name in front."""

    def __init__(self, services: list[Service], out: TextIO) -> None:
        self.files = {svc.name: svc.log_path.open("r", errors="replace") for svc in services}
        self.out = out

    def pump(self) -> None:
        for name, handle in self.files.items():
            for line in handle.readlines():
                self.out.write(f"[{name}] {line}")
        self.out.flush()


def start(stack: Stack, *, port: int, queues: str) -> None:
    """Redis on 6379 when free (the default setting needs no variable), then the API and a worker."""
    root = stack.root
    redis_port = 6379 if not _in_use(6379) else free_port()
    stack.start_redis(port=redis_port, appendonly=True)
    print(f"redis-server on 127.0.0.1:{redis_port} (data in {root / 'redis'})", flush=True)
    stack.start_api(port=port, workers=2)
    print(f"API on 127.0.0.1:{port}; starting a worker for {queues} (loading models)...", flush=True)
    stack.start_worker(queues=queues, name="worker")


def _in_use(port: int) -> bool:
    try:
        return port_open(port)()
    except OSError:
        return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C (or a service dies), then stop everything, worker first."""
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--queues", default="image,chat,embed")
    parser.add_argument("--root", type=Path, default=REPO / "var")
    args = parser.parse_args(argv)
    if _in_use(args.port):
        print(f"port {args.port} is taken; stop what runs there or use `make run PORT=...`", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack(args.root.resolve())
    try:
        start(stack, port=args.port, queues=args.queues)
        print(EXAMPLE.format(port=args.port, root=args.root), flush=True)
        tail = LogTail([s for s in stack.services if s is not stack.redis], sys.stdout)
        while all(s.proc.poll() is None for s in stack.services):
            tail.pump()
            time.sleep(0.2)
        dead = [s.name for s in stack.services if s.proc.poll() is not None]
        print(f"stopping: {', '.join(dead)} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping the worker, the API and Redis...", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
