"""What a job asks to be told: the webhook spec in its create body, and the events that can call it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

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


def delivery(job_id: str, event: WebhookEvent) -> str:
    """The member of the deliveries set naming one event of one job (`job_id|event`)."""
    return f"{job_id}|{event.value}"


def parse_delivery(member: str) -> tuple[str, WebhookEvent]:
    """(job id, event) of a deliveries-set member."""
    job_id, _, event = member.rpartition("|")
    return job_id, WebhookEvent(event)


class Outcome(StrEnum):
    """How one delivery attempt ended."""

    DELIVERED = "delivered"  # the receiver answered 2xx: the delivery is done
    RETRYING = "retrying"  # a timeout, a connection error, 408, 429 or 5xx: tried again at `next_at`
    STOPPED = "stopped"  # 410, another status, or an address the webhook may not reach: never again
    GAVE_UP = "gave_up"  # still failing when the retry window (LLMB_WEBHOOK_RETRY_FOR_S) closed


class Attempt(BaseModel):
    """One try at delivering a job's event, as recorded; times are epoch seconds."""

    model_config = ConfigDict(frozen=True)

    at: float
    event: WebhookEvent
    webhook_id: str
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    next_at: float | None = None
    duration_ms: int = 0
