"""Submitting a job: the use case behind POST /v1/jobs and the original /model/generate."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from api.services import Services
from shared.hub import wait_for_terminal
from shared.inputs import JobInput
from shared.jobs import JobRecord, JobStatus, JobType


@dataclass(frozen=True)
class Submitted:
    """A job just submitted, as it is now, with its place in line while it waits."""

    record: JobRecord
    position: int | None


def submit_job(
    svc: Services, job_type: JobType, job_input: JobInput, *, owner: str, wait_s: int = 0
) -> Submitted:
    """Store and enqueue a validated job, then wait up to `wait_s` seconds for it to finish.

    Raises UnavailableError (503) when Redis does not answer.
    """
    job_id = str(uuid.uuid4())
    # Every field is ours or already validated: no need to validate the record again.
    record = JobRecord.model_construct(
        id=job_id,
        type=job_type,
        owner=owner,
        status=JobStatus.QUEUED,
        input=job_input.model_dump(mode="json", exclude_none=True),
        created_at=time.time(),
        batch_key=job_input.batch_key,
    )
    created = svc.store.create(record)
    if not wait_s:
        return Submitted(created.record, created.position)
    since = (created.record, created.event_id)
    record = wait_for_terminal(svc.store, svc.hub, job_id, wait_s, since=since)
    return Submitted(record, svc.store.position(record))
