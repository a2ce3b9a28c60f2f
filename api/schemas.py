"""Wire types of the HTTP API: the create body, and the job as clients see it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.spec import Component
from shared.caps import Cap
from shared.inputs import ChatInput, EmbedInput, ImageInput, InputSchema, Prompt
from shared.views import JobView
from shared.webhook import WebhookSpec


class _JobCreate(BaseModel):
    """What every job type's create body has besides its input."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("deadline_s", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        # JSON has one number type: 30.0 is an integer to JSON Schema, so it is one here too.
        return int(value) if isinstance(value, float) and value.is_integer() else value

    deadline_s: Annotated[int, Field(ge=1), Cap(maximum="deadline_max_s")] | None = Field(
        default=None,
        description="cancel the job (reason deadline) unless it finished this many seconds after creation",
    )
    webhook: WebhookSpec | None = Field(
        default=None, description="POST the job to this URL on its events, signed"
    )
    priority: Literal["interactive", "batch"] = Field(
        default="interactive",
        description="interactive jobs are served before waiting batch jobs of the same queue (with aging)",
    )


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
JobCreate = Annotated[
    ImageJobCreate | ChatJobCreate | EmbedJobCreate, Field(discriminator="type"), Component("JobCreate")
]


class LegacyGenerate(InputSchema):
    """Body of the original backend's POST /model/generate."""

    text: Prompt = Field(description="what to draw")


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
