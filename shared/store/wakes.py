"""Wake-ups for interactive jobs that arrive behind batch jobs: what a worker's interactive door waits on.

create.lua pushes one (the job's id) to its queue's `wakes` list when an interactive job is created
while batch jobs of the queue wait, keeping the last `MAX_WAKES` (shared/store/order.py). A worker
with room for an interactive job pops one with BLPOP and claims the queue's first interactive job
(`JobStore.claim_next(door=True)`; worker/interactive.py). A wake-up is a hint, not a job: the job
may have been claimed already by a delivery, and the claim then finds none.
"""

from __future__ import annotations

from redis import Redis

from shared import redis_keys
from shared.store.scripts import redis_errors
from shared.vocabulary import JobType


class InteractiveWakes:
    """BLPOP on the `wakes` lists of one worker's queues, on a client of its own (it blocks)."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    def wait(self, job_types: list[JobType], timeout_s: float) -> JobType | None:
        """The queue of the next wake-up within `timeout_s` seconds (whole seconds or fractions), or None.

        Raises UnavailableError when Redis does not answer.
        """
        keys = [redis_keys.interactive_wakes(t) for t in job_types]
        with redis_errors():
            popped = self.client.blpop(keys, timeout=timeout_s)
        if popped is None:
            return None
        key = popped[0].decode() if isinstance(popped[0], bytes) else str(popped[0])
        return job_types[keys.index(key)]
