"""One try at one delivery: read its job (or batch, budget), check where it goes again, sign, post, settle."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shared.errors import InputError, NotFoundError
from shared.job_record import JobRecord
from shared.settings import Settings
from shared.store import JobStore
from shared.store.webhooks import WebhookStore, attempts_key
from shared.webhook import Attempt, NoticeEvent, Outcome, WebhookEvent, parse_delivery
from shared.webhook_targets import Network, Resolver, check_url, parse_nets, system_resolver
from webhooks.bounds import TenantSlots
from webhooks.message import payload, public_base, signed_headers, webhook_id
from webhooks.notices import Notices, Outgoing
from webhooks.policy import Answer, Window, schedule
from webhooks.post import post

log = logging.getLogger(__name__)

# A delivery whose tenant has its share of attempts under way is due again this much later (seconds).
TURN_S = 0.25


def pending_tries(attempts: list[Attempt], event: WebhookEvent | NoticeEvent) -> tuple[int, float | None]:
    """How often the pending delivery of `event` was tried already, and when it was first tried.

    Its tries are the event's latest attempts that ended `retrying`: an earlier delivery of the same
    event (progress is delivered many times) ended with another outcome.
    """
    tries, first_at = 0, None
    for attempt in reversed(attempts):
        if attempt.event != event:
            continue
        if attempt.outcome != Outcome.RETRYING:
            break
        tries, first_at = tries + 1, attempt.at
    return tries, first_at


@dataclass
class Sender:
    """Makes delivery attempts; tests give it their own resolver, clock and randomness."""

    jobs: JobStore
    deliveries: WebhookStore
    settings: Settings
    http: httpx.Client
    resolve: Resolver = system_resolver
    clock: Callable[[], float] = time.time
    rand: Callable[[], float] = random.random
    notices: Notices | None = None  # batch ends and budget alerts (None: such deliveries are dropped)
    allowed: list[Network] = field(init=False)
    slots: TenantSlots = field(init=False)

    def __post_init__(self) -> None:
        self.allowed = parse_nets(self.settings.webhook_allow_nets)
        self.slots = TenantSlots(self.settings.webhook_tenant_sends)

    def attempt(self, member: str, *, lease: float) -> Attempt | None:
        """Try the delivery `member` (held until `lease`) once and record it; None when it is dropped.

        A job that is gone (expired) has nothing to deliver, nor has a progress delivery of a job that
        has ended (its `completed` tells more); a batch's or a budget's the same (webhooks/notices.py).
        """
        subject, event = parse_delivery(member)
        now = self.clock()
        out = self._outgoing(subject, event, now)
        if out is None:
            self.deliveries.settle(member, lease=lease, attempt=None)
            return None
        if not self.slots.take(out.signer):  # its tenant has its share of threads: wait a turn, unrecorded
            self.deliveries.settle(member, lease=lease, attempt=None, next_at=now + TURN_S)
            return None
        try:
            return self._try(member, lease, out, event, now)
        finally:
            self.slots.give_back(out.signer)

    def _try(
        self, member: str, lease: float, out: Outgoing, event: WebhookEvent | NoticeEvent, now: float
    ) -> Attempt:
        """One attempt at the delivery, recorded whatever the receiver did."""
        made = self._judge(member, event, out.msg_id, self._send(out, now=now), now)
        self.deliveries.settle(member, lease=lease, attempt=made, next_at=made.next_at)
        log.info("webhook %s of %s: %s", event.value, parse_delivery(member)[0], _describe(made))
        return made

    def _outgoing(self, subject: str, event: WebhookEvent | NoticeEvent, now: float) -> Outgoing | None:
        """What to send for the delivery, or None when it is dropped."""
        if isinstance(event, NoticeEvent):
            return self.notices.outgoing(subject, event) if self.notices is not None else None
        record = self._deliverable(subject, event)
        if record is None:
            return None
        msg_id = webhook_id(record.id, event, now=now)
        body = payload(record, event, base=public_base(self.settings), now=now)
        return Outgoing(record.owner, str((record.webhook or {}).get("url", "")), msg_id, body)

    def _deliverable(self, job_id: str, event: WebhookEvent) -> JobRecord | None:
        """The job, unless it is gone, has no webhook, or the delivery is the progress of an ended job."""
        try:
            record = self.jobs.get(job_id)
        except NotFoundError:
            return None
        if record.webhook is None or (event == WebhookEvent.PROGRESS and record.status.terminal):
            return None
        return record

    def _judge(
        self, member: str, event: WebhookEvent | NoticeEvent, msg_id: str, answer: Answer, now: float
    ) -> Attempt:
        """The attempt that got `answer`: its outcome and next try, given the delivery's earlier tries."""
        tries, first_at = pending_tries(self.deliveries.attempts_at(attempts_key(member)), event)
        window = Window(self.settings.webhook_backoff_s, self.settings.webhook_retry_for_s)
        outcome, next_at = schedule(
            answer, tries=tries + 1, first_at=first_at or now, now=now, window=window, rand=self.rand
        )
        return Attempt(
            at=now,
            event=event,
            webhook_id=msg_id,
            outcome=outcome,
            status_code=answer.status_code,
            error=answer.error,
            next_at=next_at,
            duration_ms=answer.duration_ms,
        )

    def _send(self, out: Outgoing, *, now: float) -> Answer:
        try:
            target = check_url(out.url, allowed=self.allowed, resolve=self.resolve)
        except InputError as exc:
            # A name that cannot be resolved now may resolve later; an address it may not reach never may.
            reason = str(exc.errors[0]["message"]) if exc.errors else str(exc)
            return Answer(error=f"refused: {reason}", transient=isinstance(exc.__cause__, OSError))
        secrets = self.deliveries.secret(out.signer).signing(now)
        headers = signed_headers(secrets, msg_id=out.msg_id, at=int(now), body=out.body)
        return post(
            self.http,
            target,
            body=out.body.encode(),
            headers=headers,
            deadline_s=self.settings.webhook_deadline_s,
        )


def _describe(attempt: Attempt) -> str:
    got = str(attempt.status_code) if attempt.status_code is not None else attempt.error
    if attempt.next_at is not None:
        return f"{got}; next try in {attempt.next_at - attempt.at:.1f} s"
    return f"{got}; {attempt.outcome.value}"
