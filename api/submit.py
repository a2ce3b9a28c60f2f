"""Submitting a job: the use case behind POST /v1/jobs and the original /model/generate."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field, replace

from api import signals
from api.budgets import check_budgets, job_budgets
from api.headers import CreateHeaders
from api.services import Services
from api.waiting import long_wait
from shared import logs
from shared.auth import Principal
from shared.errors import ConflictError, InputError
from shared.inputs import JobInput
from shared.job_record import JobRecord, JobStatus, JobType
from shared.store import Created, Existing, Idempotency, Place
from shared.webhook import WebhookSpec
from shared.webhook_targets import check_url, parse_nets


@dataclass(frozen=True)
class Options:
    """What a client may ask of a job besides its input."""

    deadline_s: int | None = None
    webhook: WebhookSpec | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""  # SHA-256 of the validated request, to tell a replay from another request
    traceparent: str = ""  # the caller's W3C trace context, shown on the job's log lines
    priority: str = "interactive"  # or "batch": its class in the queue's order (shared/store/order.py)

    @classmethod
    def requested(
        cls,
        sent: CreateHeaders,
        identity: str,
        *,
        deadline_s: int | None = None,
        webhook: WebhookSpec | None = None,
        priority: str = "interactive",
    ) -> Options:
        """A create request's options: its deadline (`deadline_s`, else Cancel-After) and its headers'.

        `identity` is the validated request as text; with the deadline it is the replay fingerprint.
        """
        deadline = deadline_s or sent.cancel_after_s
        fingerprint = hashlib.sha256(f"{identity}|{deadline}".encode()).hexdigest()
        return cls(deadline, webhook, sent.idempotency_key, fingerprint, sent.traceparent, priority)


@dataclass(frozen=True)
class Submitted:
    """A job just submitted (or replayed), as it is now, its place in line, and headers for the answer."""

    record: JobRecord
    place: Place
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False
    retryable: bool = False  # asked with an Idempotency-Key: the same request again answers this job


def submit_job(
    svc: Services,
    job_type: JobType,
    job_input: JobInput,
    *,
    principal: Principal,
    wait_s: int = 0,
    options: Options = Options(),
) -> Submitted:
    """Count the submission against the key's rate, store and enqueue the job, wait up to `wait_s` s.

    With an Idempotency-Key already used for the same request, the job it made is answered instead.
    Raises InputError (422: a webhook URL it may not call, a key reused for another request),
    ConflictError (409: that request is still in flight), RateLimitedError, TooManyActiveJobsError,
    TenantQueueFullError or BudgetExceededError (429), QueueFullError or UnavailableError (503).
    """
    if options.webhook is not None:
        check_url(
            options.webhook.url, allowed=parse_nets(svc.settings.webhook_allow_nets), resolve=svc.resolve
        )
    record, idem = _record(job_type, job_input, principal, options, wait_s)
    known = svc.store.known(idem) if idem is not None else None
    if known is not None:  # a replay (or its refusal) is not a submission: the rate does not count it
        return _replay(svc, known, options)
    check_budgets(svc.store, principal, svc.settings.limits)
    record = record.model_copy(update={"budgets": job_budgets(principal.budget, svc.settings.limits)})
    headers = svc.limiter.hit(principal)
    made = _create(svc, record, principal, idem)
    if isinstance(made, Existing):
        return _replay(svc, made, options)
    signals.job_submitted.send(job_type.value)
    logs.bind(job_id=record.id, type=job_type.value, traceparent=record.traceparent)
    try:
        done = _after(svc, made, wait_s, headers)
        return replace(done, retryable=idem is not None)
    finally:
        if idem is not None:
            svc.store.settle(idem)


def _create(
    svc: Services, record: JobRecord, principal: Principal, idem: Idempotency | None
) -> Created | Existing:
    """Store and enqueue the job under its caps on waiting and active jobs (the create script checks them)."""
    limits = svc.settings.limits
    return svc.store.create(
        record,
        max_waiting=limits.queue_max_waiting,
        max_tenant_waiting=limits.tenant_max_waiting,
        max_active=principal.max_active_jobs or limits.key_max_active_jobs,
        weight=svc.settings.weight_of(record.owner),
        idempotency=idem,
    )


def _record(
    job_type: JobType, job_input: JobInput, principal: Principal, options: Options, wait_s: int
) -> tuple[JobRecord, Idempotency | None]:
    now = time.time()
    webhook = options.webhook.model_dump(mode="json") if options.webhook else None
    # Every field is ours or already validated: no need to validate the record again.
    record = JobRecord.model_construct(
        id=str(uuid.uuid4()),
        type=job_type,
        owner=principal.tenant,
        key_id=principal.key_id,
        status=JobStatus.QUEUED,
        input=job_input.model_dump(mode="json", exclude_none=True),
        created_at=now,
        batch_key=job_input.batch_key,
        deadline_at=now + options.deadline_s if options.deadline_s else None,
        webhook=webhook,
        webhook_events=" ".join(webhook["events"]) if webhook else "",
        traceparent=options.traceparent,
        priority=options.priority,
    )
    if options.idempotency_key is None:
        return record, None
    key_hash = hashlib.sha256(options.idempotency_key.encode()).hexdigest()
    # In flight while this request may still wait (plus a margin); `settle` ends it when it answers.
    idem = Idempotency(principal.tenant, key_hash, options.fingerprint, now + wait_s + 10)
    return record, idem


def _after(svc: Services, created: Created, wait_s: int, headers: dict[str, str]) -> Submitted:
    if not wait_s:
        return Submitted(created.record, created.place, headers)
    since = (created.record, created.event_id)
    record = long_wait(svc, created.record.id, wait_s, since=since)
    return Submitted(record, svc.store.place(record), headers)


def _replay(svc: Services, made: Existing, options: Options) -> Submitted:
    if made.fingerprint != options.fingerprint:
        raise InputError(
            "this Idempotency-Key was used for another request",
            errors=[{"field": "Idempotency-Key", "message": "already used with a different body"}],
        )
    if made.inflight_until > time.time():
        raise ConflictError(
            f"the first request with this Idempotency-Key (job {made.job_id}) is still in flight"
        )
    record = svc.store.get(made.job_id)
    return Submitted(record, svc.store.place(record), replayed=True, retryable=True)
