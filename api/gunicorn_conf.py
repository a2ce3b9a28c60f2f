"""gunicorn's settings for the API, taken from the same LLMB_ settings as everything else.

gevent workers: a long-wait or an event stream is a parked greenlet, so hundreds of them
never starve /health the way a fixed pool of sync or thread workers would.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from shared.settings import load_settings

_settings = load_settings()
_temporary: list[Path] = []

bind = _settings.api_bind
workers = _settings.api_workers
worker_class = "gevent"
worker_connections = _settings.api_connections
# Above the longest long-wait, so a waiting request is never killed as a stuck worker.
timeout = _settings.limits.max_wait_s + 30
graceful_timeout = 30
keepalive = 5
wsgi_app = "api:create_app()"
# No control socket: several APIs may share a host, and the root filesystem may be read-only.
control_socket_disable = True
# Worker heartbeat files in memory: no disk stalls, and nothing written to the root filesystem.
worker_tmp_dir = "/dev/shm"

# gunicorn's own lines in the format every other line has (LLMB_LOG_FORMAT).
if _settings.log_format == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                "rename_fields": {
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                    "process": "pid",
                },
            }
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
        "root": {"level": "INFO", "handlers": []},  # the app's own handler (shared/logs.py) comes with it
    }


def on_starting(server: object) -> None:
    """Give the workers a fresh folder for prometheus-client's multiprocess metrics (before they fork).

    LLMB_METRICS_DIR/api, emptied (counts of an earlier run must not add up with ours), or a
    temporary folder removed when gunicorn exits.
    """
    if not _settings.metrics:
        return
    if _settings.metrics_dir is not None:
        folder = _settings.metrics_dir / "api"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="llmb-api-metrics-"))
        _temporary.append(folder)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def on_exit(server: object) -> None:
    """Remove the temporary metrics folder."""
    for folder in _temporary:
        shutil.rmtree(folder, ignore_errors=True)


def child_exit(server: object, worker: Any) -> None:
    """A worker's live gauges leave with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """The loaded app lives as long as the worker: out of the collector's sight (Python's gc.freeze), a
    full collection no longer walks its objects, a pause every request in the process would wait out."""
    import gc

    gc.freeze()
