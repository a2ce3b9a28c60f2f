"""What a delivery sends: the job as the API shows it, in a Standard Webhooks envelope, signed.

The body is `{"type": "job.<event>", "timestamp": <RFC 3339>, "data": <the job>}`; the headers are
`webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, two of them,
space-separated, while a rotated secret still signs), made by the `standardwebhooks` package.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from standardwebhooks import Webhook

from shared.job_record import JobRecord
from shared.settings import Settings, bind_host
from shared.views import iso, render_job
from shared.webhook import WebhookEvent

USER_AGENT = "llmb-webhooks/1"
_WILDCARDS = frozenset({"0.0.0.0", "::", "[::]", ""})


def public_base(settings: Settings) -> str:
    """The base of the URLs in a payload: LLMB_PUBLIC_URL, else `http://` and the API's bind address.

    A wildcard bind (0.0.0.0, ::) becomes localhost, which reaches the API from this machine only:
    deployments whose receivers fetch results should set LLMB_PUBLIC_URL.
    """
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if settings.api_bind.startswith("unix:") or ":" not in settings.api_bind:
        return "http://localhost"
    host, port = bind_host(settings.api_bind), settings.api_bind.rsplit(":", 1)[1]
    return f"http://{'localhost' if host in _WILDCARDS else host}:{port}"


def webhook_id(job_id: str, event: WebhookEvent, *, now: float) -> str:
    """The message id: the same for every try of a job's `started` or `completed`, fresh per progress send."""
    if event == WebhookEvent.PROGRESS:
        return f"msg_{job_id}_progress_{int(now * 1000)}"
    return f"msg_{job_id}_{event.value}"


def payload(record: JobRecord, event: WebhookEvent, *, base: str, now: float) -> str:
    """The body: the job as GET /v1/jobs/{id} shows it now (result URLs under `base`) in its envelope."""
    view = render_job(record, base=base)
    envelope = {"type": f"job.{event.value}", "timestamp": iso(now), "data": view.model_dump(mode="json")}
    return json.dumps(envelope, separators=(",", ":"))


def signed_headers(secrets: list[str], *, msg_id: str, at: int, body: str) -> dict[str, str]:
    """The delivery's headers, its signature made with each secret (the current one first)."""
    timestamp = datetime.fromtimestamp(at, UTC)
    signature = " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(at),
        "webhook-signature": signature,
    }
