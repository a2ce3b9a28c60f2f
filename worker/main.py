"""`llmb-worker`: start a Celery worker consuming any subset of the image, chat and embed queues."""

from __future__ import annotations

import argparse
import logging
import socket

from shared.settings import load_settings
from worker.app import create_worker_app

LOG_FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> None:
    """Parse flags (which override LLMB_ settings), then run the worker until it is stopped."""
    parser = argparse.ArgumentParser(prog="llmb-worker", description=__doc__)
    parser.add_argument("--queues", "-Q", help="comma-separated subset of image,chat,embed")
    parser.add_argument("--concurrency", "-c", type=int, help="pool processes (one per device)")
    parser.add_argument("--loglevel", "-l", help="DEBUG, INFO, WARNING, ...")
    args = parser.parse_args(argv)
    overrides = {
        k: v
        for k, v in {
            "queues": args.queues,
            "concurrency": args.concurrency,
            "log_level": args.loglevel,
        }.items()
        if v is not None
    }
    settings = load_settings(**overrides)
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    # A restarted worker (its container, or its folder, kept) is neither ready nor alive until it shows it.
    for marker in (settings.ready_file, settings.alive_file):
        if marker is not None:
            marker.unlink(missing_ok=True)
    app = create_worker_app(settings)
    queues = ",".join(settings.job_types)
    app.worker_main(
        [
            "worker",
            f"--queues={queues}",
            f"--concurrency={settings.concurrency}",
            "--pool=prefork",
            f"--loglevel={settings.log_level.upper()}",
            f"--hostname={queues.replace(',', '+')}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--optimization=fair",
        ]
    )


if __name__ == "__main__":
    main()
