"""What a delivered task message runs: the queue's next job by the store's order, or a lost job of its own.

A message is a permit (docs/ARCHITECTURE.md, Deliver): the store decides which job it runs. When no
job waits, the message's own job is looked at, for a redelivery after a pool process died: if its
worker is lost, the store's one decision about lost jobs (`JobStore.release_lost`, also the reaper's)
puts it back in line or fails it, and the permit claims the next job, most likely that one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from shared.errors import NotFoundError
from shared.job_record import JobRecord, JobStatus, JobType
from shared.store.order import Aging
from worker.holder import holder_is_dead

if TYPE_CHECKING:
    from worker.runtime import WorkerRuntime


def is_lost(record: JobRecord, *, me: str, now: float, running_here: bool = False) -> bool:
    """Whether a running job's worker is gone: no holder, a lapsed lease, or a holder known dead.

    A job held by this very process is lost unless it runs here now (`running_here`: another
    delivery of this process, on another thread, runs it); a redelivery finds it so when the
    process lost its running jobs, as a pool process replaced under the same holder never is.
    """
    if record.status != JobStatus.RUNNING:
        return False
    if record.holder == me and running_here:
        return False
    return not record.holder or record.lease_until < now or holder_is_dead(record.holder, me=me)


def claim_delivered(rt: WorkerRuntime, job_id: str, *, job_type: JobType | None = None) -> JobRecord | None:
    """The job a delivery runs under this process's lease, or None when there is none to run.

    `job_type` is the queue the message came from; without it, that of the job the message names.
    """
    if job_type is not None and (record := claim_next(rt, job_type)) is not None:
        return record  # the common case: one round trip
    try:
        own = rt.store.get(job_id)
    except NotFoundError:
        return None
    if job_type is None and (record := claim_next(rt, own.type)) is not None:
        return record
    if not is_lost(own, me=rt.holder, now=time.time(), running_here=rt.keeper.tracks(own.id)):
        return None
    rt.store.release_lost(own, max_attempts=rt.settings.max_attempts, permit=False)
    return claim_next(rt, own.type)


def claim_next(rt: WorkerRuntime, job_type: JobType, *, door: bool = False) -> JobRecord | None:
    """The queue's next job by the store's order, started under this process's lease (`door`: only an
    interactive one, claimed without a delivery; worker/interactive.py).

    Its lease is kept from the claim (the caller's run lets go of it): a delivery of this process
    whose message names the job, on another thread, must find it running here (`is_lost`), or it
    would put the job back in line without a permit and run it a second time.
    """
    aging = Aging(rt.settings.priority_aging_s, rt.settings.priority_aging_every)
    record = rt.store.claim_next(
        job_type, holder=rt.holder, lease_until=rt.leases.deadline(), aging=aging, door=door
    )
    if record is not None:  # from its claim on: another thread's delivery naming it finds it running here
        rt.keeper.track(record.id, record.type)
    return record
