"""The service's words as enums: job statuses and types, event types and error codes.

Standard library only, so the CLI (which installs without pydantic or Redis) speaks the same words.
"""

from __future__ import annotations

from enum import StrEnum


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
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


class JobType(StrEnum):
    """The kind of work, which is also the name of its queue."""

    IMAGE = "image"
    CHAT = "chat"
    EMBED = "embed"


class EventType(StrEnum):
    """The kinds of entries in a job's event stream (and of its Server-Sent Events)."""

    STATUS = "status"
    PROGRESS = "progress"
    TOKEN = "token"
    DONE = "done"  # sent by the API after the terminal status; never stored


class ErrorCode(StrEnum):
    """Why a job failed or was canceled by its deadline (`job.error.code`), or a request was refused."""

    # A failed job's reasons.
    INVALID_INPUT = "invalid_input"
    TIMEOUT = "timeout"
    WORKER_LOST = "worker_lost"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    RESOURCE_EXHAUSTED = "resource_exhausted"
    INTERNAL = "internal"
    DEADLINE = "deadline"  # a canceled job's reason: not finished by its deadline_s
    # Only a request's reasons.
    MALFORMED_BODY = "malformed_body"
    BAD_HOST = "bad_host"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_ACTIVE_JOBS = "too_many_active_jobs"
    TOO_MANY_STREAMS = "too_many_streams"
    BODY_TIMEOUT = "body_timeout"
    TOO_MANY_WAITING_JOBS = "too_many_waiting_jobs"
    BUDGET_EXCEEDED = "budget_exceeded"
    QUEUE_FULL = "queue_full"
    BODY_TOO_LARGE = "body_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    NOT_READY = "not_ready"
    JOB_FAILED = "job_failed"
    GATEWAY_TIMEOUT = "gateway_timeout"

    @property
    def fails_jobs(self) -> bool:
        """True for the codes a failed job's `error.code` can hold."""
        return self in JOB_ERROR_CODES


JOB_ERROR_CODES = frozenset(
    {
        ErrorCode.INVALID_INPUT,
        ErrorCode.TIMEOUT,
        ErrorCode.WORKER_LOST,
        ErrorCode.STORAGE_UNAVAILABLE,
        ErrorCode.RESOURCE_EXHAUSTED,
        ErrorCode.INTERNAL,
        ErrorCode.DEADLINE,
    }
)
