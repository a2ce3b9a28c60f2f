"""`llmb-worker`: start a Celery worker consuming any subset of the image, chat and embed queues."""

from __future__ import annotations

import argparse
import importlib
import socket

from shared import logs
from shared.settings import Settings, load_settings
from worker import metrics
from worker.slots import deliveries


def main(argv: list[str] | None = None) -> None:
    """Parse flags (which override LLMB_ settings), then run the worker until it is stopped."""
    parser = argparse.ArgumentParser(prog="llmb-worker", description=__doc__)
    parser.add_argument("--queues", "-Q", help="comma-separated subset of image,chat,embed")
    parser.add_argument("--concurrency", "-c", type=int, help="deliveries run at once (default: per queue)")
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
    logs.configure(settings.log_level, settings.log_format)
    route_library_logs()
    if settings.log_format == "json":
        import celery.apps.worker

        # Celery writes its shutdown notes ("worker: Warm shutdown") past logging, from signal handlers.
        celery.apps.worker.safe_say = lambda msg, f=None: logs.say(msg, "celery.apps.worker")
    metrics.prepare(settings)  # before the worker app imports prometheus_client
    from worker.app import create_worker_app

    # A restarted worker (its container, or its folder, kept) is neither ready nor alive until it shows it.
    for marker in (settings.ready_file, settings.alive_file):
        if marker is not None:
            marker.unlink(missing_ok=True)
    app = create_worker_app(settings)
    if settings.metrics_port is not None:
        metrics.serve(settings.metrics_port)
    app.worker_main(celery_argv(settings))


def route_library_logs() -> None:
    """transformers and diffusers print through handlers of their own: send their lines to ours instead."""
    for library in ("transformers", "diffusers"):
        try:
            library_logging = importlib.import_module(f"{library}.utils.logging")
        except ImportError:  # a worker image without that library
            continue
        library_logging.disable_default_handler()
        library_logging.enable_propagation()


def celery_argv(settings: Settings) -> list[str]:
    """Celery's command line for these settings; JSON logs leave out its banner, which is not a log line."""
    queues = ",".join(settings.job_types)
    argv = [
        "worker",
        f"--queues={queues}",
        f"--concurrency={deliveries(settings)}",
        f"--pool={settings.worker_pool}",
        f"--loglevel={settings.log_level.upper()}",
        f"--hostname={queues.replace(',', '+')}@{socket.gethostname()}",
        "--without-gossip",
        "--without-mingle",
        "--optimization=fair",
    ]
    return ["--quiet", *argv] if settings.log_format == "json" else argv  # a global option of `celery`


if __name__ == "__main__":
    main()
