"""The job as clients see it (the API's answers and the webhooks' payloads): records rendered at read time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.job_record import ErrorInfo, JobRecord, JobStatus, JobType, Progress
from shared.store.queue_reads import Place


class JobLinks(BaseModel):
    """Where to go next for this job."""

    self: str = Field(description="this job")
    events: str = Field(description="its Server-Sent Events")
    cancel: str = Field(description="POST here to cancel it")
    result: str | None = Field(default=None, description="its result, once it succeeded")


class JobView(BaseModel):
    """The job as the API shows it: result files appear as URLs rendered at read time."""

    id: str = Field(description="random (UUIDv4)")
    type: JobType = Field(description="the kind of work, which is also its queue")
    status: JobStatus
    input: dict[str, Any] = Field(description="the input as validated, defaults filled in")
    created_at: str = Field(description="RFC 3339 UTC")
    started_at: str | None = Field(description="when its latest attempt started")
    finished_at: str | None
    attempts: int = Field(description="how many times a worker started it")
    queue_position: int | None = Field(description="1-based place in its queue while it waits")
    estimated_start_s: float | None = Field(
        default=None,
        description="while it waits: seconds until it should start, from its queue's recent service rate "
        "(null without history or workers)",
    )
    deadline_at: str | None = Field(
        default=None, description="canceled (error code deadline) if not finished by then"
    )
    webhook: dict[str, Any] | None = Field(default=None, description="the URL and events it reports to")
    progress: Progress | None = Field(description="steps (image) or tokens (chat) so far")
    result: dict[str, Any] | None = Field(description="once succeeded; files appear as download URLs")
    error: ErrorInfo | None = Field(description="once failed: a code and a readable message")
    usage: dict[str, float] | None = Field(
        default=None,
        description="once ended on a worker: tokens, images, pixel_steps and device_s (its share of its "
        "batch's device time)",
    )
    links: JobLinks
    priority: str = Field(
        default="interactive",
        description="interactive (the default), or batch: a batch's lines, or asked for",
    )
    batch_id: str | None = Field(default=None, description="the /v1/batches batch this job is a line of")


def iso(ts: float | None) -> str | None:
    """An epoch time as RFC 3339 UTC with milliseconds."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render_job(record: JobRecord, *, base: str, place: Place | None = None) -> JobView:
    """The client's view of a record, with result files as download URLs under `base`."""
    url = f"{base}/v1/jobs/{record.id}"
    result = None
    if record.result is not None:
        result = dict(record.result)
        files = result.pop("files", None)
        if files is not None:
            result["files"] = [
                {"url": f"{url}/result/{i}", **{k: v for k, v in f.items() if k != "key"}}
                for i, f in enumerate(files)
            ]
    done = record.status == JobStatus.SUCCEEDED
    return JobView(
        id=record.id,
        type=record.type,
        status=record.status,
        input=record.input,
        created_at=iso(record.created_at) or "",
        started_at=iso(record.started_at),
        finished_at=iso(record.finished_at),
        attempts=record.attempts,
        queue_position=place.position if place else None,
        estimated_start_s=place.estimated_start_s if place else None,
        deadline_at=iso(record.deadline_at),
        webhook=record.webhook,
        progress=record.progress,
        result=result,
        error=record.error,
        usage=record.usage,
        links=JobLinks(
            self=url, events=f"{url}/events", cancel=f"{url}/cancel", result=f"{url}/result" if done else None
        ),
        priority=record.priority or "interactive",
        batch_id=record.batch_id or None,
    )
