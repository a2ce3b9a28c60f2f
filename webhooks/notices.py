"""What a delivery about something other than one job sends: a batch's end, a budget's threshold crossed.

The body has the shape of OpenAI's webhook events, `{"object": "event", "id", "type", "created_at",
"data"}`: a batch's `data` is its batch object (`id` first), a budget's the figures of the crossing.
`id` is also the `webhook-id`, the same on every try. A batch's end is signed with its tenant's
secret and goes to the batch's webhook; a budget's alert is signed with the `admin` tenant's secret
(GET /v1/webhooks/secret with the admin key) and goes to LLMB_BUDGET_ALERT_WEBHOOK, or nowhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.errors import NotFoundError
from shared.store import JobStore
from shared.store.batches import BatchStore
from shared.webhook import NoticeEvent

# The tenant whose signing secret signs budget alerts (the admin key's tenant).
OPERATOR = "admin"


@dataclass(frozen=True)
class Outgoing:
    """One delivery ready to try: whose secret signs it (its share of threads too), where, and what."""

    signer: str
    url: str
    msg_id: str
    body: str


@dataclass
class Notices:
    """Builds the deliveries of batch ends and budget alerts from what the store holds now."""

    batches: BatchStore
    jobs: JobStore
    alert_url: str | None = None

    def outgoing(self, subject: str, event: NoticeEvent) -> Outgoing | None:
        """The delivery of `event` about `subject`; None when there is nothing (more) to send."""
        if event == NoticeEvent.BUDGET_THRESHOLD:
            return self._budget(subject)
        try:
            record, _ = self.batches.load(subject)
        except NotFoundError:
            return None
        ended = event.value.removeprefix("batch.")
        if record.webhook is None or record.status != ended:
            return None
        msg_id = f"evt_{record.id}_{ended}"
        created = getattr(record, f"{ended}_at") or record.created_at
        body = envelope(msg_id, event, created, record.public())
        return Outgoing(record.owner, str(record.webhook["url"]), msg_id, body)

    def _budget(self, subject: str) -> Outgoing | None:
        alert = self.jobs.budget_alert(subject)
        if alert is None or not self.alert_url:
            return None
        msg_id = "evt_budget_" + subject.replace(":", "_")
        body = envelope(msg_id, NoticeEvent.BUDGET_THRESHOLD, int(float(str(alert["at"]))), alert)
        return Outgoing(OPERATOR, self.alert_url, msg_id, body)


def envelope(msg_id: str, event: NoticeEvent, created_at: int, data: dict[str, Any]) -> str:
    """An event body in OpenAI's webhook shape."""
    body = {"object": "event", "id": msg_id, "type": event.value, "created_at": created_at, "data": data}
    return json.dumps(body, separators=(",", ":"))
