"""The Redis job store: the only code (with the event hub) that talks to Redis.

`JobStore` holds records and every status change; `Leases` what a worker sends while it runs jobs.
"""

from shared.store.answers import Created, Existing, Idempotency, Place, QueueLoad
from shared.store.commands import EVENTS_MAXLEN, Transition
from shared.store.job_store import JobStore
from shared.store.leases import HEARTBEAT_TTL_S, Leases, Report
from shared.store.scripts import redis_errors

__all__ = [
    "EVENTS_MAXLEN",
    "HEARTBEAT_TTL_S",
    "Created",
    "Existing",
    "Idempotency",
    "JobStore",
    "Leases",
    "Place",
    "QueueLoad",
    "Report",
    "Transition",
    "redis_errors",
]
