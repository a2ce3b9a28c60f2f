"""One long-lived continuous-batching manager per chat model and process, shared by every job it runs.

transformers' `ContinuousBatchingManager` decodes in a background thread: a request joins the
running batch between decode steps and leaves when it finishes or is canceled. Its outputs land
on one queue; a router thread of ours hands each to the queue of the run that asked for it, so
any number of runs (one per delivered job, from the worker's threads) share the manager.
The manager starts on first use in the process that uses it (its thread does not survive a fork).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

_POLL_S = 0.1
# Places in the engine's batch when LLMB_CHAT_MAX_REQUESTS is unset: a job's first token waits for a place
# while more jobs are in flight than places. 96 chat jobs posted at once on the 2-core CPU: first-token
# p99 3.9 s with 32 places, 1.2 s with 96 (0.18x the design before the engine), tokens/s 1.12x it
# (docs/BENCHMARKS.md, "Chat under mixed load"); vLLM's default cap on running sequences is 256.
CHAT_PLACES = 128
# On a CPU the library would size the KV cache at 60 % of the machine's RAM, in every process that
# runs an engine; instead, pages of 256 tokens for each place: a job holds whole pages, so fewer pages
# than places leave places idle (64 pages held 96 jobs to 64 at once).
CPU_PAGES_PER_PLACE = 2


def cache_pages(options: EngineOptions, *, on_cpu: bool) -> int | None:
    """The KV cache's pages of 256 tokens: LLMB_CHAT_CACHE_BLOCKS, else CPU_PAGES_PER_PLACE a place on a
    CPU, else None (the library sizes it from the free device memory)."""
    if options.cache_blocks:
        return options.cache_blocks
    return CPU_PAGES_PER_PLACE * options.max_requests if on_cpu else None


def chat_places(max_requests: int | None) -> int:
    """The engine's places: LLMB_CHAT_MAX_REQUESTS, else CHAT_PLACES (a worker has a thread for each)."""
    return max_requests or CHAT_PLACES


@dataclass(frozen=True)
class EngineOptions:
    """How to build the manager: its batch size cap and whether to use CUDA graphs / compile (GPUs only)."""

    max_requests: int = CHAT_PLACES
    cuda_graphs: bool = False
    compile: bool = False
    cache_blocks: int | None = (
        None  # KV cache pages of 256 tokens; None: CPU_PAGES_PER_PLACE a place on a CPU
    )


@dataclass(frozen=True)
class Delivery:
    """One output of the manager for a run: the row it belongs to and the manager's `GenerationOutput`."""

    row: int
    output: Any  # GenerationOutput; None when the engine stopped before the request finished
    error: str | None = None


class ChatEngine:
    """A model's continuous-batching manager plus the routing of its outputs to the runs that wait on them."""

    def __init__(self, model: Any, generation_config: Any, options: EngineOptions) -> None:
        self.model = model
        self.generation_config = generation_config
        self.options = options
        self._manager: Any = None
        self._pid = 0
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[queue.Queue[Delivery], int]] = {}

    def submit(self, prompt: list[int], sink: queue.Queue[Delivery], row: int, **request: Any) -> str:
        """Add a request (max_new_tokens, eos_token_id, sampling); its outputs go to `sink`, tagged `row`."""
        manager = self._started()
        request_id = uuid.uuid4().hex
        with self._lock:
            self._routes[request_id] = (sink, row)
        if manager.add_request(prompt, request_id=request_id, streaming=True, **request) is None:
            self._drop(request_id)
            raise RuntimeError("the chat engine is not accepting requests")
        return request_id

    def cancel(self, request_id: str) -> None:
        """Take the request out of the batch at the next step; no more outputs reach its run."""
        self._drop(request_id)
        if self._manager is not None:
            self._manager.cancel_request(request_id)

    def stop(self) -> None:
        """Stop the manager's thread (requests still in it fail); the next `submit` starts it again."""
        with self._lock:
            manager, self._manager = self._manager, None
        if manager is not None and self._pid == os.getpid():
            manager.stop(block=True, timeout=30)

    def _drop(self, request_id: str) -> None:
        with self._lock:
            self._routes.pop(request_id, None)

    def _started(self) -> Any:
        with self._lock:
            if self._manager is None or self._pid != os.getpid() or not self._manager.is_running():
                self._manager = self._build()
                self._pid = os.getpid()
                threading.Thread(
                    target=self._route, args=(self._manager,), name="chat-engine-router", daemon=True
                ).start()
            return self._manager

    def _build(self) -> Any:
        import torch
        from transformers import ContinuousBatchingConfig

        from worker.pipelines.cb_sampling import install

        opts = self.options
        on_cpu = self.model.device.type == "cpu"
        config = ContinuousBatchingConfig(
            num_blocks=cache_pages(opts, on_cpu=on_cpu),
            max_requests_per_batch=opts.max_requests,
            use_cuda_graph=opts.cuda_graphs if self.model.device.type == "cuda" else False,
            default_compile_level=1 if opts.compile else 0,
        )
        _adopt_library_logger()
        manager = self.model.init_continuous_batching(
            generation_config=self.generation_config, continuous_batching_config=config
        )
        install(manager)

        def start() -> None:
            with torch.inference_mode():
                manager.start()

        # A thread inherits daemon from the thread that creates it: started from a daemon thread, the
        # manager's decode thread never holds the process open at exit (a worker stops with its jobs
        # handed back or finished; what the engine still holds is not waited for).
        starter = threading.Thread(target=start, name="chat-engine-start", daemon=True)
        starter.start()
        starter.join()
        log.info("chat engine started (%d places)", opts.max_requests)
        return manager

    def _route(self, manager: Any) -> None:
        """Hand each output to its run until the manager stops; then fail what still waits."""
        outputs = manager.output_router.output_queue
        while manager.is_running() or not outputs.empty():
            try:
                output = outputs.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            with self._lock:
                route = self._routes.get(output.request_id)
                if route is not None and output.is_finished():
                    del self._routes[output.request_id]
            if route is not None:
                route[0].put(Delivery(route[1], output))
        self._fail_waiting(manager)

    def _fail_waiting(self, manager: Any) -> None:
        with self._lock:
            if self._manager not in (manager, None):
                return  # a new manager took over; its runs wait on it
            self._manager = None
            routes, self._routes = self._routes, {}
        error = str(manager.background_thread_status.fatal_error or "the chat engine stopped")
        for sink, row in routes.values():
            sink.put(Delivery(row, None, error))


def _adopt_library_logger() -> None:
    """The library's engine logger prints through a handler of its own (not our JSON): route it to ours.

    transformers adds that handler once, when its module is first imported (imported here first), so
    clearing it then keeps it cleared.
    """
    import transformers.generation.continuous_batching.utils  # noqa: F401 (adds the handler)

    library = logging.getLogger("ContinuousBatchingLogger")
    library.handlers.clear()
    library.propagate = True
