"""The job record and its state machine: every rule about status changes lives here.

The store's command scripts (shared/store/lua/: start, finish, requeue, cancel…) know no rule of
their own: each is told which statuses its job may start from (`may_start_from`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from shared.errors import InvalidTransitionError
from shared.vocabulary import ErrorCode, JobStatus, JobType

__all__ = ["ErrorInfo", "JobRecord", "JobStatus", "JobType", "Progress", "check_transition", "may_start_from"]

TERMINAL = frozenset(s for s in JobStatus if s.terminal)

# The one table of allowed changes.
# running -> running: a redelivery after the worker was lost (always one more attempt);
# running -> queued: handed back by a stopping worker, or freed by the reaper after its lease lapsed.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


def may_start_from(status: JobStatus, *, only_from: JobStatus | None = None) -> str:
    """The statuses a change into `status` may start from (narrowed to `only_from` when given), as the
    store's command scripts take them: space-separated, e.g. `running` for `succeeded`."""
    sources = {s for s, targets in TRANSITIONS.items() if status in targets}
    if only_from is not None:
        sources &= {only_from}
    return " ".join(sorted(s.value for s in sources))


def check_transition(current: JobStatus, new: JobStatus) -> None:
    """Raise InvalidTransitionError unless the table allows current -> new."""
    if new not in TRANSITIONS[current]:
        raise InvalidTransitionError(f"a {current} job cannot become {new}")


def after_lost_worker(attempts: int, *, max_attempts: int) -> JobStatus:
    """What a job whose worker was lost becomes: run again (queued) until the attempt cap, then failed."""
    return JobStatus.QUEUED if attempts < max_attempts else JobStatus.FAILED


class ErrorInfo(BaseModel):
    """Why a job failed, as data."""

    code: ErrorCode
    message: str


def worker_lost(attempts: int) -> ErrorInfo:
    """The error of a job whose worker was lost on every one of its attempts."""
    return ErrorInfo(
        code=ErrorCode.WORKER_LOST, message=f"the worker was lost {attempts} times running this job"
    )


class Progress(BaseModel):
    """How far a running job has come: `step` of `total` (diffusion steps, or tokens)."""

    step: int
    total: int


_JSON_FIELDS = ("input", "progress", "result", "error", "webhook", "usage", "budgets")
_TEXT_FIELDS = ("holder", "batch_key", "key_id", "webhook_events", "traceparent", "batch_id", "priority")


class JobRecord(BaseModel):
    """The job as stored in its Redis hash; times are epoch seconds."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: JobType
    owner: str  # the tenant the job belongs to
    status: JobStatus
    input: dict[str, Any]
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    progress: Progress | None = None
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    holder: str = ""
    lease_until: float = 0.0
    seq: int = 0
    batch_key: str = ""
    key_id: str = ""  # the API key that submitted it
    deadline_at: float | None = None  # canceled (reason deadline) if not finished by then
    webhook: dict[str, Any] | None = None  # {"url", "events"}: whom to tell, and when
    webhook_events: str = ""  # the events, space-separated, for the store's scripts
    traceparent: str = ""  # the W3C trace context the client sent, carried into the worker's logs
    batch_id: str = ""  # the /v1/batches batch whose line this job is
    priority: str = "interactive"  # "batch" for a batch's lines (the store's order will read it)
    usage: dict[str, float] | None = None  # what it used, written with its end (worker/usage.py)
    budgets: dict[str, Any] | None = None  # the caps its end counts against (shared/budgets.py:alert_caps)

    @field_validator("*", mode="before")
    @classmethod
    def _from_redis(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bytes):
            value = value.decode()
        if value == "" and info.field_name not in _TEXT_FIELDS:
            return None
        if info.field_name in _JSON_FIELDS and isinstance(value, str):
            return json.loads(value)
        return value

    @classmethod
    def from_redis(cls, raw: dict[bytes, bytes]) -> JobRecord:
        """Decode a hash as HGETALL returns it."""
        return cls.model_validate({k.decode(): v for k, v in raw.items()})

    def to_redis(self) -> dict[str, str]:
        """Encode for HSET: JSON for structured fields, empty string for none."""
        return encode_fields(self.model_dump(mode="json"))


def encode_fields(fields: dict[str, Any]) -> dict[str, str]:
    """Encode record fields the way the job hash stores them."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        if value is None:
            out[key] = ""
        elif key in _JSON_FIELDS:
            out[key] = json.dumps(value, separators=(",", ":"))
        else:
            out[key] = str(value)
    return out
