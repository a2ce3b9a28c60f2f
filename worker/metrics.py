"""The worker's Prometheus metrics (prometheus-client), served on LLMB_METRICS_PORT by its main process.

Celery's prefork pool runs jobs in child processes, so the metrics use prometheus-client's
multiprocess mode: `prepare` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before anything
imports prometheus_client (it picks its value class at import), every process writes its own files
there, and the main process's HTTP server sums them per scrape. Without a port nothing is served
and the values stay in memory.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from shared.settings import Settings

# Batches hold 1..LLMB_BATCH_MAX jobs; steps take from milliseconds (a token) to seconds (a big image).
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def prepare(settings: Settings) -> Path | None:
    """Make the multiprocess folder (emptied: counts of an earlier run must not add up); None without a port.

    Call before importing prometheus_client, i.e. before the worker app. The folder is
    LLMB_METRICS_DIR/worker, or a temporary one removed when the worker exits.
    """
    if settings.metrics_port is None:
        return None
    if settings.metrics_dir is not None:
        folder = settings.metrics_dir / "worker"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="llmb-worker-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def serve(port: int) -> None:
    """Answer GET /metrics on `port` (all interfaces) from a daemon thread, summing every process's files."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_http_server(port, registry=registry)


def process_exited(pid: int) -> None:
    """A pool process's live gauges (busy, device memory) leave with it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class WorkerMetrics:
    """The metrics a pool process writes while it runs batches (created on first use, after `prepare`)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.batch_size = Histogram(
            "llmb_batch_size", "jobs per model call", ["type"], buckets=BATCH_BUCKETS, registry=None
        )
        self.step_seconds = Histogram(
            "llmb_step_seconds", "time per model step", ["type"], buckets=STEP_BUCKETS, registry=None
        )
        self.deliveries = Counter(
            "llmb_worker_deliveries",
            "Celery deliveries (permits) by outcome: ran (a job claimed), empty (none waited), "
            "door (an interactive job claimed at the interactive door)",
            ["queue", "outcome"],
            registry=None,
        )
        self.tokens = Counter("llmb_generated_tokens", "chat tokens generated", registry=None)
        self.images = Counter("llmb_images_generated", "images of succeeded jobs", registry=None)
        self.embeddings = Counter("llmb_embeddings", "vectors of succeeded embed jobs", registry=None)
        self.load_seconds = Gauge(
            "llmb_pipeline_load_seconds",
            "how long the pipeline took to load and warm up",
            ["type"],
            registry=None,
            multiprocess_mode="mostrecent",
        )
        self.busy = Gauge(
            "llmb_worker_busy",
            "batches running: on the device or storing their results",
            ["queue"],
            registry=None,
            multiprocess_mode="livesum",
        )
        self.device_memory = Gauge(
            "llmb_device_memory_bytes",
            "CUDA memory of the pool processes",
            ["state"],
            registry=None,
            multiprocess_mode="livesum",
        )

    def device_memory_now(self, torch: Any) -> None:
        """Sample CUDA memory (allocated, reserved by the caching allocator, the device's total)."""
        device = torch.cuda.current_device()
        self.device_memory.labels("allocated").set(torch.cuda.memory_allocated(device))
        self.device_memory.labels("reserved").set(torch.cuda.memory_reserved(device))
        self.device_memory.labels("total").set(torch.cuda.get_device_properties(device).total_memory)


@functools.cache
def metrics() -> WorkerMetrics:
    """This process's metrics (one set per process, made on first use)."""
    return WorkerMetrics()
