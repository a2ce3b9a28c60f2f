"""Riding out a Redis outage: an action tried again, pausing longer each time, until Redis answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from shared.errors import UnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_PAUSE_S = 0.1
LONGEST_PAUSE_S = 2.0


def until_redis_answers(
    action: Callable[[], T],
    *,
    within_s: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`action()`, tried again while it raises UnavailableError, pausing 0.1 s doubling to 2 s.

    Raises the last UnavailableError once `within_s` seconds passed without an answer.
    """
    deadline, pause, warned = clock() + within_s, FIRST_PAUSE_S, False
    while True:
        try:
            return action()
        except UnavailableError as exc:
            if clock() + pause > deadline:
                raise
            if not warned:
                log.warning(
                    "%s: Redis does not answer, trying again for up to %.0f s: %s", what, within_s, exc
                )
                warned = True
            sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
