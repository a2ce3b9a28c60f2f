"""Waiting for a condition with a deadline: the soak never sleeps and hopes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from redis.exceptions import RedisError

T = TypeVar("T")
POLL_S = 0.1


def poll(check: Callable[[], T | None], *, timeout: float, what: str, every: float = POLL_S) -> T:
    """`check`'s first truthy answer, asked every `every` s; TimeoutError naming `what` past `timeout`."""
    # A Redis error counts as "not yet" (the soak's own reads may meet an outage another fault left).
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except RedisError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)
