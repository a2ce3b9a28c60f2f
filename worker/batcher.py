"""The micro-batcher: jobs delivered concurrently into one process share a pipeline call.

Each delivery (a Celery thread) claims its own job, prepares it and hands it in under the job's
batch key. The first job of a key opens a batch and leads it: it waits until the batch is full
(`LLMB_BATCH_MAX`), or `LLMB_BATCH_WAIT_MS` passed, or there is nothing to wait for (the device
is free, no delivery of this queue is on its way and no job waits in the store); then it takes
the device, which runs `device_slots` batches at a time (LLMB_DEVICE_BATCHES, 1 by default), and
runs the batch. While the device is busy the open
batch keeps filling, so a busy worker runs full batches and an idle one starts a lone job at
once (the idea of Ray Serve's `@serve.batch` and BentoML's adaptive batching). A batch with an
urgent item (an interactive job) takes the device before batches without one that wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

ItemT = TypeVar("ItemT")
# A batch's runner: called with the batch's items and a function that gives the device back.
Runner = Callable[[list[ItemT], Callable[[], None]], None]
_POLL_S = 0.002  # how often a waiting leader looks whether it still has a reason to wait


@dataclass
class _Batch(Generic[ItemT]):
    key: str
    items: list[ItemT] = field(default_factory=list)
    full: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    urgent: bool = False  # it holds an urgent item: it takes the device first


class MicroBatcher(Generic[ItemT]):
    """Batches of same-key items from concurrent callers, run on the device `device_slots` at a time.

    `others_waiting()` says whether jobs of the queue wait in the store (their deliveries come).
    """

    def __init__(
        self, *, batch_max: int, wait_s: float, others_waiting: Callable[[], bool], device_slots: int = 1
    ) -> None:
        self.batch_max = max(1, batch_max)
        self.wait_s = wait_s
        self.others_waiting = others_waiting
        self.device_slots = max(1, device_slots)
        self._on_device = 0  # batches holding the device now
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)  # the device freed, or an urgent batch came
        self._queued: list[_Batch[ItemT]] = []  # batches waiting for the device
        self._open: dict[str, _Batch[ItemT]] = {}
        self._arriving = 0

    def arriving(self, delta: int) -> None:
        """Count a delivery on its way in (+1, before it claims its job) or no longer so (-1)."""
        with self._lock:
            self._arriving += delta

    def submit(
        self, key: str, item: ItemT, run: Runner[ItemT], *, arrived: bool = True, urgent: bool = False
    ) -> None:
        """Run `item` in a batch of its key; returns once that batch ran (and re-raises its failure).

        The batch's leader calls `run(items, leave_device)` holding the device; `run` calls
        `leave_device()` once its pipeline call is over, so the next batch runs while it finishes.
        `arrived`: the caller was counted on its way in (`arriving(+1)`); it is counted out here.
        `urgent`: the item's batch takes the device before waiting batches with no urgent item.
        """
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = self._open[key] = _Batch(key)
            batch.items.append(item)
            if urgent and not batch.urgent:
                batch.urgent = True
                self._turn.notify_all()
            if len(batch.items) >= self.batch_max:
                self._close(batch)
            self._arriving -= 1 if arrived else 0
        if leader:
            self._lead(batch, run)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error

    def _lead(self, batch: _Batch[ItemT], run: Runner[ItemT]) -> None:
        """Wait for company, take the device, run the batch; whatever happens, its callers are released."""
        on_device = [False]

        def leave_device() -> None:
            if on_device[0]:
                on_device[0] = False
                with self._lock:
                    self._on_device -= 1
                    self._turn.notify_all()

        try:
            self._wait_for_company(batch)
            self._take_device(batch)  # a busy device: the batch goes on filling meanwhile
            on_device[0] = True
            run(batch.items, leave_device)
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch re-raises it in its thread
            batch.error = exc
        finally:
            with self._lock:
                self._close(batch)  # never left open to callers that would wait on it for ever
            leave_device()
            batch.done.set()

    def _take_device(self, batch: _Batch[ItemT]) -> None:
        """Wait for a free device slot and this batch's turn: the first waiting urgent batch's, else the
        first waiting batch's (the order they asked in)."""
        with self._lock:
            self._queued.append(batch)
            try:
                while self._on_device >= self.device_slots or self._next_in_turn() is not batch:
                    self._turn.wait()
            finally:
                self._queued.remove(batch)
            self._on_device += 1
            self._close(batch)
            self._turn.notify_all()  # the next in turn may take a device slot still free

    def _next_in_turn(self) -> _Batch[ItemT]:
        """The waiting batch whose turn is next (call with the lock held, `_queued` not empty)."""
        return next((b for b in self._queued if b.urgent), self._queued[0])

    def _wait_for_company(self, batch: _Batch[ItemT]) -> None:
        """Until the batch is full, `wait_s` passed, or there is nothing to wait for."""
        deadline = time.monotonic() + self.wait_s
        while not batch.full.wait(max(0.0, min(_POLL_S, deadline - time.monotonic()))):
            if time.monotonic() >= deadline or self._nothing_to_wait_for():
                return

    def _nothing_to_wait_for(self) -> bool:
        """The device is free, no delivery is on its way and no job waits: waiting gains nothing."""
        with self._lock:
            arriving, busy = self._arriving, self._on_device >= self.device_slots
        if busy or arriving:
            return False
        try:
            return not self.others_waiting()
        except Exception:  # noqa: BLE001 - the store away (Redis restarting): wait out the window
            return False

    def _close(self, batch: _Batch[ItemT]) -> None:
        """No more items join this batch (call with the lock held)."""
        if self._open.get(batch.key) is batch:
            del self._open[batch.key]
        batch.full.set()
