"""Repairing a lost permit: jobs wait in a queue's index while its Celery list holds no message for them.

Every waiting job has one task message (a permit) in the queue's Celery list or in a delivery's hands
(docs/ARCHITECTURE.md, Deliver). A message can still be lost outside the store's steps: kombu's Redis
transport pops a message with BRPOP before it records it as unacknowledged, so a message popped but
still unread when the consumer resets (a warm shutdown, a dropped connection) is gone (celery/celery
#4354, celery/kombu#1733). Its job would then wait until another job's message came. A worker's
housekeeper with nothing to run that sees jobs waiting and no message, on two rounds in a row, pushes
one (worker/keeper.py); a message too many only makes an empty delivery.
"""

from __future__ import annotations

from typing import Any, cast

from redis import Redis

from shared import redis_keys
from shared.queues import task_message
from shared.store.scripts import redis_errors
from shared.vocabulary import JobType


class Permits:
    """Reads and repairs of a queue's permits (its Celery list) against its waiting index."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def missing(self, job_type: JobType) -> bool:
        """Whether jobs wait in the queue and its Celery list holds no message. Raises UnavailableError."""
        with redis_errors():
            pipe = self._redis.pipeline(transaction=False)
            pipe.zcard(redis_keys.waiting(job_type))
            pipe.llen(redis_keys.celery_queue(job_type))
            waiting, messages = cast(list[int], pipe.execute())
        return waiting > 0 and messages == 0

    def top_up(self, job_type: JobType) -> str | None:
        """Push a message for the first waiting job if jobs still wait with none (checked and pushed in one
        transaction); that job's id, or None. Raises UnavailableError."""
        waiting, queue = redis_keys.waiting(job_type), redis_keys.celery_queue(job_type)

        def step(pipe: Any) -> str | None:
            first = pipe.zrange(waiting, 0, 0)
            if not first or pipe.llen(queue) > 0:
                return None
            job_id = first[0].decode()
            pipe.multi()
            pipe.lpush(queue, task_message(job_id, job_type))
            return str(job_id)

        transaction: Any = self._redis.transaction  # typed as taking a callable that returns None
        with redis_errors():
            return cast(str | None, transaction(step, waiting, queue, value_from_callable=True))
