"""Wire types of the HTTP API: the create body, and the job as clients see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.inputs import CappedInput
from shared.jobs import ErrorInfo, JobRecord, JobStatus, JobType, Progress


class JobCreate(BaseModel):
    """Body of POST /v1/jobs; `input` is checked against the type's own schema."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: JobType
    input: dict[str, Any]


class LegacyGenerate(CappedInput):
    """Body of the original backend's POST /model/generate."""

    text: str = Field(min_length=1)


class JobLinks(BaseModel):
    """Where to go next for this job."""

    self: str
    events: str
    cancel: str
    result: str | None = None


class JobView(BaseModel):
    """The job as the API shows it: result files appear as URLs rendered at read time."""

    id: str
    type: JobType
    status: JobStatus
    input: dict[str, Any]
    created_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int
    queue_position: int | None = Field(description="1-based place in its queue while it waits")
    progress: Progress | None
    result: dict[str, Any] | None
    error: ErrorInfo | None
    links: JobLinks


class JobList(BaseModel):
    """A page of the caller's jobs, newest first."""

    jobs: list[JobView]
    next: str | None = Field(description="URL of the next page, absent on the last one")


class QueueStats(BaseModel):
    """One queue's load; `load` (waiting + running) is the worker autoscaling signal."""

    waiting: int
    running: int
    workers: int
    load: int


class QueuesView(BaseModel):
    """Every queue's load."""

    queues: dict[str, QueueStats]


def iso(ts: float | None) -> str | None:
    """An epoch time as RFC 3339 UTC with milliseconds."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render_job(record: JobRecord, *, base: str, position: int | None = None) -> JobView:
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
        queue_position=position,
        progress=record.progress,
        result=result,
        error=record.error,
        links=JobLinks(
            self=url, events=f"{url}/events", cancel=f"{url}/cancel", result=f"{url}/result" if done else None
        ),
    )
