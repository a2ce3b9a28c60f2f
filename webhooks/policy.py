"""What an attempt's answer means for its delivery (done, again later, never again) and when to try again."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from shared import numbers
from shared.webhook import Outcome

# The longest pause between two tries of one delivery, whatever the backoff or Retry-After says.
BACKOFF_CAP_S = 3600.0
_RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Answer:
    """What one try got: a status code, or the error that kept it from getting one."""

    status_code: int | None = None
    error: str | None = None
    transient: bool = False  # an error worth trying again (a timeout, a failed connection, DNS)
    retry_after_s: float | None = None  # the receiver's Retry-After, in seconds
    duration_ms: int = 0


def retry_after_s(header: str | None) -> float | None:
    """A receiver's Retry-After in seconds (delay-seconds: ASCII digits only); None when absent or odd."""
    seconds = numbers.integer(header.strip()) if header is not None else None
    return None if seconds is None else float(min(seconds, BACKOFF_CAP_S))


def verdict(answer: Answer) -> Outcome:
    """2xx delivers; timeouts, connection errors, 408, 429 and 5xx retry; 410 and the rest stop."""
    code = answer.status_code
    if code is None:
        return Outcome.RETRYING if answer.transient else Outcome.STOPPED
    if 200 <= code < 300:
        return Outcome.DELIVERED
    if code in _RETRY_STATUSES or code >= 500:
        return Outcome.RETRYING
    return Outcome.STOPPED


def backoff_s(tries: int, *, base_s: float, rand: Callable[[], float] = random.random) -> float:
    """The pause after the `tries`-th failed try: `base_s` doubling up to an hour, half of it random."""
    delay = min(base_s * 2.0 ** min(tries - 1, 40), BACKOFF_CAP_S)
    return delay / 2 + rand() * delay / 2


@dataclass(frozen=True)
class Window:
    """How long a delivery is tried: from its first try, for `retry_for_s`, pausing per `backoff_s`."""

    base_s: float
    retry_for_s: float


def schedule(
    answer: Answer,
    *,
    tries: int,
    first_at: float,
    now: float,
    window: Window,
    rand: Callable[[], float] = random.random,
) -> tuple[Outcome, float | None]:
    """The outcome of the `tries`-th try at `now`, and when to try next (None: never)."""
    outcome = verdict(answer)
    if outcome != Outcome.RETRYING:
        return outcome, None
    delay = backoff_s(tries, base_s=window.base_s, rand=rand)
    if answer.retry_after_s is not None:
        delay = max(delay, min(answer.retry_after_s, BACKOFF_CAP_S))
    if now + delay > first_at + window.retry_for_s:
        return Outcome.GAVE_UP, None
    return Outcome.RETRYING, now + delay
