"""Wire types of the HTTP API: the create body, and the job as clients see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.inputs import ChatInput, EmbedInput, ImageInput, InputSchema, Prompt
from shared.jobs import ErrorInfo, JobRecord, JobStatus, JobType, Progress


class _JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ImageJobCreate(_JobCreate):
    """An image job."""

    type: Literal["image"]
    input: ImageInput


class ChatJobCreate(_JobCreate):
    """A chat job."""

    type: Literal["chat"]
    input: ChatInput


class EmbedJobCreate(_JobCreate):
    """An embeddings job."""

    type: Literal["embed"]
    input: EmbedInput


# Body of POST /v1/jobs: one schema per job type, told apart by `type`.
JobCreate = Annotated[ImageJobCreate | ChatJobCreate | EmbedJobCreate, Field(discriminator="type")]


class LegacyGenerate(InputSchema):
    """Body of the original backend's POST /model/generate."""

    text: Prompt = Field(description="what to draw")


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
    progress: Progress | None = Field(description="steps (image) or tokens (chat) so far")
    result: dict[str, Any] | None = Field(description="once succeeded; files appear as download URLs")
    error: ErrorInfo | None = Field(description="once failed: a code and a readable message")
    links: JobLinks


class JobList(BaseModel):
    """A page of the caller's jobs, newest first."""

    jobs: list[JobView]
    next: str | None = Field(description="URL of the next page, absent on the last one")


class FieldError(BaseModel):
    """One field a request got wrong."""

    field: str = Field(description="dotted path of the field, e.g. input.width")
    message: str
    type: str | None = Field(default=None, description="the check that failed")


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details), with the service's `code`."""

    type: str = Field(description="urn:llmb:problem:<code>")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="the request path")
    code: str = Field(description="the machine-readable reason (ErrorCode)")
    job_id: str | None = Field(default=None, description="the job concerned, when there is one")
    errors: list[FieldError] | None = Field(default=None, description="each invalid field")


class QueueStats(BaseModel):
    """One queue's load; `load` (waiting + running) is the worker autoscaling signal."""

    waiting: int = Field(description="jobs waiting for a worker")
    running: int = Field(description="jobs a worker runs now")
    workers: int = Field(description="live workers consuming this queue")
    load: int = Field(description="waiting + running")


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
