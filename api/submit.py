"""Submitting a job: the use case behind POST /v1/jobs and the original /model/generate."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from api.services import Services
from shared.auth import Principal
from shared.hub import wait_for_terminal
from shared.inputs import JobInput
from shared.jobs import JobRecord, JobStatus, JobType


@dataclass(frozen=True)
class Submitted:
    """A job just submitted, as it is now, its place in line while it waits, and the rate-limit headers."""

    record: JobRecord
    position: int | None
    headers: dict[str, str] = field(default_factory=dict)


def submit_job(
    svc: Services, job_type: JobType, job_input: JobInput, *, principal: Principal, wait_s: int = 0
) -> Submitted:
    """Count the submission against the key's rate, store and enqueue the job, wait up to `wait_s` s.

    Raises RateLimitedError or TooManyActiveJobsError (429), QueueFullError or UnavailableError (503).
    """
    headers = svc.limiter.hit(principal)
    limits = svc.settings.limits
    # Every field is ours or already validated: no need to validate the record again.
    record = JobRecord.model_construct(
        id=str(uuid.uuid4()),
        type=job_type,
        owner=principal.tenant,
        key_id=principal.key_id,
        status=JobStatus.QUEUED,
        input=job_input.model_dump(mode="json", exclude_none=True),
        created_at=time.time(),
        batch_key=job_input.batch_key,
    )
    max_active = principal.max_active_jobs or limits.key_max_active_jobs
    created = svc.store.create(record, max_waiting=limits.queue_max_waiting, max_active=max_active)
    if not wait_s:
        return Submitted(created.record, created.position, headers)
    since = (created.record, created.event_id)
    record = wait_for_terminal(svc.store, svc.hub, record.id, wait_s, since=since)
    return Submitted(record, svc.store.position(record), headers)
