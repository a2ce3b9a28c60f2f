"""What a job or batch asks to be told: the webhook spec in its create body, and the events that can call it.

A delivery is one member of the deliveries set, `<subject>|<event>`: a job's id and a WebhookEvent
(`started`), or, for what is about something other than one job, a batch's id or a budget's spend
period (`d20261206:key:<id>`) and a NoticeEvent (`batch.completed`, `budget.threshold`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.inputs import InputSchema

# An http(s) URI (RFC 3986: ASCII; an international name in its punycode form) with a host of reg-name
# characters, an optional port (up to 65535) and no credentials; where it may go is checked apart
# (shared/webhook_targets.py). Explicit character classes, not \s: regex engines disagree on what
# whitespace is (Python's re counts U+001C..U+001F, Rust's regex in pydantic does not).
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_HOST = r"[A-Za-z0-9\-._~%!$&'()*+,;=]+"
URL_PATTERN = rf"^https?://{_HOST}(:{_PORT})?([/?#][!-~]*)?$"


class WebhookEvent(StrEnum):
    """When a job's webhook is called."""

    STARTED = "started"  # a worker started it (once, however often it runs)
    COMPLETED = "completed"  # it succeeded, failed or was canceled
    PROGRESS = "progress"  # it made progress (at most once a second)


class WebhookSpec(InputSchema):
    """A URL to POST the job to, signed, when the chosen events happen."""

    url: Annotated[str, Field(max_length=2048, pattern=URL_PATTERN)] = Field(
        description="http(s) URL without credentials; its host must not be internal (loopback, private, ...)"
    )
    events: list[WebhookEvent] = Field(
        default=[WebhookEvent.COMPLETED], min_length=1, max_length=3, description="which events to send"
    )


class NoticeEvent(StrEnum):
    """Events about something other than one job: a batch's end, a budget's threshold crossed."""

    BATCH_COMPLETED = "batch.completed"
    BATCH_FAILED = "batch.failed"
    BATCH_EXPIRED = "batch.expired"
    BATCH_CANCELLED = "batch.cancelled"
    BUDGET_THRESHOLD = "budget.threshold"


BatchEnd = Literal["batch.completed", "batch.failed", "batch.expired", "batch.cancelled"]


class BatchWebhookSpec(InputSchema):
    """A URL to POST a batch's end to, signed with its tenant's secret, for the chosen ends."""

    url: Annotated[str, Field(max_length=2048, pattern=URL_PATTERN)] = Field(
        description="http(s) URL without credentials; its host must not be internal (loopback, private, ...)"
    )
    events: list[BatchEnd] = Field(
        default=["batch.completed", "batch.failed", "batch.expired", "batch.cancelled"],
        min_length=1,
        max_length=4,
        description="which ends to send (default: all four)",
    )


def delivery(subject: str, event: WebhookEvent | NoticeEvent) -> str:
    """The member of the deliveries set naming one event of one job, batch or budget (`subject|event`)."""
    return f"{subject}|{event.value}"


def parse_delivery(member: str) -> tuple[str, WebhookEvent | NoticeEvent]:
    """(subject, event) of a deliveries-set member: a job's event, or a notice when it holds a dot."""
    subject, _, event = member.rpartition("|")
    return subject, NoticeEvent(event) if "." in event else WebhookEvent(event)


class Outcome(StrEnum):
    """How one delivery attempt ended."""

    DELIVERED = "delivered"  # the receiver answered 2xx: the delivery is done
    RETRYING = "retrying"  # a timeout, a connection error, 408, 429 or 5xx: tried again at `next_at`
    STOPPED = "stopped"  # 410, another status, or an address the webhook may not reach: never again
    GAVE_UP = "gave_up"  # still failing when the retry window (LLMB_WEBHOOK_RETRY_FOR_S) closed


class Attempt(BaseModel):
    """One try at delivering an event (of a job, a batch, a budget), as recorded; times in epoch seconds."""

    model_config = ConfigDict(frozen=True)

    at: float
    event: WebhookEvent | NoticeEvent
    webhook_id: str
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    next_at: float | None = None
    duration_ms: int = 0
