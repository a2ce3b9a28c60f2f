"""One try at one delivery: read the job, check where it goes (again), sign and post it, settle it."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shared.errors import InputError, NotFoundError
from shared.jobs import JobRecord
from shared.settings import Settings
from shared.store import JobStore
from shared.store.webhooks import WebhookStore
from shared.webhook import Attempt, Outcome, WebhookEvent, parse_delivery
from shared.webhook_targets import Network, Resolver, check_url, parse_nets, system_resolver
from webhooks.bounds import TenantSlots
from webhooks.message import payload, public_base, signed_headers, webhook_id
from webhooks.policy import Answer, Window, schedule
from webhooks.post import post

log = logging.getLogger(__name__)

# A delivery whose tenant has its share of attempts under way is due again this much later (seconds).
TURN_S = 0.25


def pending_tries(attempts: list[Attempt], event: WebhookEvent) -> tuple[int, float | None]:
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
    allowed: list[Network] = field(init=False)
    slots: TenantSlots = field(init=False)

    def __post_init__(self) -> None:
        self.allowed = parse_nets(self.settings.webhook_allow_nets)
        self.slots = TenantSlots(self.settings.webhook_tenant_sends)

    def attempt(self, member: str, *, lease: float) -> Attempt | None:
        """Try the delivery `member` (held until `lease`) once and record it; None when it is dropped.

        A job that is gone (expired) has nothing to deliver, nor has a progress delivery of a job that
        has ended (its `completed` tells more).
        """
        job_id, event = parse_delivery(member)
        record = self._deliverable(job_id, event)
        if record is None:
            self.deliveries.settle(member, lease=lease, attempt=None)
            return None
        if not self.slots.take(record.owner):  # its tenant has its share of threads: wait a turn, unrecorded
            self.deliveries.settle(member, lease=lease, attempt=None, next_at=self.clock() + TURN_S)
            return None
        try:
            return self._try(member, lease, record, event)
        finally:
            self.slots.give_back(record.owner)

    def _try(self, member: str, lease: float, record: JobRecord, event: WebhookEvent) -> Attempt:
        """One attempt at the delivery, recorded whatever the receiver did."""
        job_id, now = record.id, self.clock()
        msg_id = webhook_id(job_id, event, now=now)
        made = self._judge(job_id, event, msg_id, self._send(record, event, msg_id=msg_id, now=now), now)
        self.deliveries.settle(member, lease=lease, attempt=made, next_at=made.next_at)
        log.info("webhook %s of job %s: %s", event.value, job_id, _describe(made))
        return made

    def _deliverable(self, job_id: str, event: WebhookEvent) -> JobRecord | None:
        """The job, unless it is gone, has no webhook, or the delivery is the progress of an ended job."""
        try:
            record = self.jobs.get(job_id)
        except NotFoundError:
            return None
        if record.webhook is None or (event == WebhookEvent.PROGRESS and record.status.terminal):
            return None
        return record

    def _judge(self, job_id: str, event: WebhookEvent, msg_id: str, answer: Answer, now: float) -> Attempt:
        """The attempt that got `answer`: its outcome and next try, given the delivery's earlier tries."""
        tries, first_at = pending_tries(self.deliveries.attempts(job_id), event)
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

    def _send(self, record: JobRecord, event: WebhookEvent, *, msg_id: str, now: float) -> Answer:
        url = str((record.webhook or {}).get("url", ""))
        try:
            target = check_url(url, allowed=self.allowed, resolve=self.resolve)
        except InputError as exc:
            # A name that cannot be resolved now may resolve later; an address it may not reach never may.
            reason = str(exc.errors[0]["message"]) if exc.errors else str(exc)
            return Answer(error=f"refused: {reason}", transient=isinstance(exc.__cause__, OSError))
        body = payload(record, event, base=public_base(self.settings), now=now)
        secrets = self.deliveries.secret(record.owner).signing(now)
        headers = signed_headers(secrets, msg_id=msg_id, at=int(now), body=body)
        return post(
            self.http,
            target,
            body=body.encode(),
            headers=headers,
            deadline_s=self.settings.webhook_deadline_s,
        )


def _describe(attempt: Attempt) -> str:
    got = str(attempt.status_code) if attempt.status_code is not None else attempt.error
    if attempt.next_at is not None:
        return f"{got}; next try in {attempt.next_at - attempt.at:.1f} s"
    return f"{got}; {attempt.outcome.value}"
