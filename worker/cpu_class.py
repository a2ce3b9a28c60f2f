"""A thread that runs or finishes a batch job is in Linux's SCHED_BATCH scheduling class while it does:
a delivery's thread (worker/delivery.py) and a finisher storing the job's result (worker/runner.py).

A worker working through a batch backlog keeps a core busy with batch work. On a host it shares with
the API, Redis or the interactive door (a laptop, a small node), its threads, waking after each
Redis reply, preempt those processes, and an interactive job's way through them (the API's POST,
create.lua in Redis, the door's wake-up) waits behind batch work at the tail. SCHED_BATCH (sched(7): "the
scheduler will apply a small scheduling penalty with respect to wakeup behavior") keeps the thread's
nice value, so its share of the CPU and the batch's throughput, but a batch thread no longer
preempts those when it wakes. The thread's class is put back when its delivery or finish ends, as
its next job may be interactive.

Moving a thread of one's own to SCHED_BATCH and back to SCHED_OTHER at the same nice value needs no
privilege (Linux ≥ 2.6.39). Where the call is refused (another OS, a seccomp profile without
sched_setscheduler) the worker logs it once and runs every job in its usual class.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

_refused = threading.Event()  # set once the OS refused: no thread tries again


def supported() -> bool:
    """Whether this OS has the class (Linux) and has not refused it to this process."""
    return hasattr(os, "SCHED_BATCH") and not _refused.is_set()


def to_batch_class() -> bool:
    """Move the calling thread to SCHED_BATCH; True when it moved (then call `to_normal_class` after)."""
    return _set(getattr(os, "SCHED_BATCH", 0)) if supported() else False


def to_normal_class() -> None:
    """Put the calling thread back in SCHED_OTHER, the default class (after `to_batch_class`)."""
    _set(os.SCHED_OTHER)


@contextmanager
def for_priority(priority: str) -> Iterator[None]:
    """The calling thread in SCHED_BATCH for the block when `priority` is "batch" (a job's priority)."""
    moved = priority == "batch" and to_batch_class()
    try:
        yield
    finally:
        if moved:
            to_normal_class()


def _set(policy: int) -> bool:
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))  # pid 0: the calling thread
    except OSError as exc:
        if not _refused.is_set():
            _refused.set()
            log.info("batch jobs run in the default CPU scheduling class: SCHED_BATCH refused (%s)", exc)
        return False
    return True
