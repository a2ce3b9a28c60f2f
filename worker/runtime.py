"""What one worker process holds: connections, its lease identity, and its pipelines, loaded once."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.job_record import JobType
from shared.redis_conn import connect
from shared.settings import Settings
from shared.storage import ObjectStore, open_storage
from shared.store import JobStore, Leases
from worker.holder import new_holder_id
from worker.keeper import LeaseKeeper
from worker.metrics import metrics
from worker.pipelines.base import Pipeline
from worker.slots import Lanes

log = logging.getLogger(__name__)


def _pipeline_path(settings: Settings, job_type: JobType) -> str:
    return {
        JobType.IMAGE: settings.image_pipeline,
        JobType.CHAT: settings.chat_pipeline,
        JobType.EMBED: settings.embed_pipeline,
    }[job_type]


def load_class(path: str) -> type:
    """Import `module:Class`, the form the settings name pipelines in."""
    module, _, name = path.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


class PipelineSource(Protocol):
    """Gives the loaded pipeline for a job type."""

    def get(self, job_type: JobType) -> Pipeline[Any, Any]:
        """The pipeline that runs jobs of this type."""


class PipelineSet:
    """The pipelines of one process, each built and loaded at most once, on first need."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: dict[JobType, Pipeline[Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, job_type: JobType) -> Pipeline[Any, Any]:
        """The loaded pipeline for a job type (loading it now if this is the first need)."""
        with self._lock:
            if job_type not in self._loaded:
                pipeline: Pipeline[Any, Any] = load_class(_pipeline_path(self.settings, job_type))(
                    self.settings
                )
                log.info("loading the %s pipeline", job_type)
                started = time.perf_counter()
                pipeline.load()
                metrics().load_seconds.labels(job_type).set(time.perf_counter() - started)
                self._loaded[job_type] = pipeline
            return self._loaded[job_type]


@dataclass
class WorkerRuntime:
    """Everything a pool process needs to run jobs."""

    settings: Settings
    store: JobStore
    leases: Leases
    storage: ObjectStore
    pipelines: PipelineSource
    keeper: LeaseKeeper
    holder: str
    # Ends a batch's jobs side by side (runner.run_batch): their result uploads overlap.
    finishers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="finish")
    )
    # Each batched job type's way to the device when deliveries run side by side (worker/slots.py).
    lanes: Lanes = field(init=False)

    def __post_init__(self) -> None:
        self.lanes = Lanes(self.settings, lambda t: bool(self.store.waiting_after(t, None, 1)))

    @classmethod
    def build(cls, settings: Settings, *, pipelines: PipelineSource | None = None) -> WorkerRuntime:
        """Connect and prepare one process, with the preloaded pipelines or ones that load on first need."""
        client = connect(settings, max_connections=settings.redis_max_connections)
        leases = Leases(client, lease_ttl_s=settings.lease_ttl_s)
        holder = new_holder_id()
        storage = open_storage(settings)
        storage.prepare()
        return cls(
            settings=settings,
            store=JobStore(client, job_ttl_s=settings.job_ttl_s),
            leases=leases,
            storage=storage,
            pipelines=pipelines or PipelineSet(settings),
            keeper=LeaseKeeper(leases, holder),
            holder=holder,
        )
