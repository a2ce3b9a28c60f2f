"""The API's answers as the CLI reads them (typed dicts over the JSON)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Progress(TypedDict):
    """How far a running job has come."""

    step: int
    total: int


class JobError(TypedDict):
    """Why a job failed."""

    code: str
    message: str


class Job(TypedDict):
    """A job as the API shows it."""

    id: str
    type: str
    status: str
    input: dict[str, Any]
    created_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int
    queue_position: int | None
    estimated_start_s: NotRequired[float | None]
    deadline_at: NotRequired[str | None]
    webhook: NotRequired[dict[str, Any] | None]
    progress: Progress | None
    result: dict[str, Any] | None
    error: JobError | None
    links: dict[str, str | None]


class JobPage(TypedDict):
    """One page of the caller's jobs, newest first."""

    jobs: list[Job]
    next: str | None


class ApiKey(TypedDict):
    """An API key as the API shows it; `key`, the whole secret key, only in the answer that creates it."""

    id: str
    key: str | None
    name: str
    tenant: str
    scopes: list[str]
    state: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    jobs_per_minute: int | None
    max_active_jobs: int | None
    budget: NotRequired[dict[str, Any] | None]
    spend: NotRequired[dict[str, Any] | None]


class KeyList(TypedDict):
    """The API keys (never their secrets)."""

    keys: list[ApiKey]


class WebhookAttempt(TypedDict):
    """One try at delivering one of a job's webhook events."""

    at: str
    event: str
    webhook_id: str
    outcome: str
    status_code: int | None
    error: str | None
    next_attempt_at: str | None
    duration_ms: int


class AttemptList(TypedDict):
    """A job's webhook delivery attempts, oldest first."""

    attempts: list[WebhookAttempt]


class UsageGroup(TypedDict):
    """One group's usage totals; the names it is not grouped by are null."""

    tenant: str | None
    key_id: str | None
    type: str | None
    jobs: int
    device_s: float
    prompt_tokens: int
    completion_tokens: int
    images: int
    pixel_steps: int


UsageReport = TypedDict("UsageReport", {"from": str, "to": str, "group_by": str, "groups": list[UsageGroup]})
UsageReport.__doc__ = "Usage totals over whole hours, by group (GET /v1/usage)."
