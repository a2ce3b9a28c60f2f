"""Whether this worker still consumes: jobs wait, it has room, yet nothing arrived for a while."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import redis
from redis import Redis

from shared import keys

# Longer than any pause between deliveries a healthy consumer with free room would show.
STALL_S = 60.0


class ConsumeWatch:
    """Tells a stuck consumer (celery#10205: silent after a Redis reconnect) from an idle one."""

    def __init__(self, client: Redis, *, queues: list[str], capacity: int, busy: Callable[[], int]) -> None:
        self.redis = client
        self.queues = queues
        self.capacity = capacity
        self.busy = busy
        self.last_received = time.monotonic()

    def received(self) -> None:
        """Note that the consumer just took a message."""
        self.last_received = time.monotonic()

    def stalled(self) -> bool:
        """True when messages wait, a slot is free, and none was taken for STALL_S."""
        if self.busy() >= self.capacity or time.monotonic() - self.last_received < STALL_S:
            return False
        try:
            pipe = self.redis.pipeline(transaction=False)
            for q in self.queues:
                pipe.llen(keys.celery_queue(q))
            backlog = sum(cast(list[int], pipe.execute()))
        except (redis.ConnectionError, redis.TimeoutError):
            return False  # Redis is down: restarting this worker would not help
        return backlog > 0


def touch(path: Path | None) -> None:
    """Mark the worker alive for a liveness probe that checks the file's age."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
