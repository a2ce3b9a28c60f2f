"""The job schema and its state machine: one table of allowed status changes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from shared.errors import InvalidTransitionError


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        """True for the statuses that never change again."""
        return self in TERMINAL


class JobType(StrEnum):
    """The kind of work, which is also the name of its queue."""

    IMAGE = "image"
    CHAT = "chat"
    EMBED = "embed"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})

# The one table of allowed changes. running -> running is the redelivery of a job whose
# worker was lost; the store only allows it together with attempts + 1.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}

# Which timestamp a change into each status stamps.
TIMESTAMP_FIELD: dict[JobStatus, str] = {
    JobStatus.RUNNING: "started_at",
    JobStatus.SUCCEEDED: "finished_at",
    JobStatus.FAILED: "finished_at",
    JobStatus.CANCELED: "finished_at",
}


def check_transition(current: JobStatus, new: JobStatus) -> None:
    """Raise InvalidTransitionError unless the table allows current -> new."""
    if new not in TRANSITIONS[current]:
        raise InvalidTransitionError(f"a {current} job cannot become {new}")


def sources_of(new: JobStatus) -> list[JobStatus]:
    """The statuses from which the table allows a change into `new`."""
    return [s for s, targets in TRANSITIONS.items() if new in targets]


class ErrorInfo(BaseModel):
    """Why a job failed, as data."""

    code: str
    message: str


class Progress(BaseModel):
    """How far a running job has come."""

    step: int
    total: int


_JSON_FIELDS = ("input", "progress", "result", "error")


class JobRecord(BaseModel):
    """The job as stored in its Redis hash."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: JobType
    owner: str
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

    @field_validator("*", mode="before")
    @classmethod
    def _from_redis(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bytes):
            value = value.decode()
        if value == "" and info.field_name not in ("holder", "batch_key"):
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
