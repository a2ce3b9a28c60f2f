"""The sender's loop: take the due deliveries, try each on a few threads, pause while none is due."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from shared.errors import UnavailableError
from shared.store.webhooks import WebhookStore
from shared.webhook import Attempt
from webhooks.sender import Sender

log = logging.getLogger(__name__)

# The longest pause while nothing is due (a delivery scheduled meanwhile waits at most this long),
# and the shortest, so a loop never spins.
IDLE_S = 0.5
MIN_PAUSE_S = 0.02
# The pause after Redis did not answer, before trying again.
OUTAGE_PAUSE_S = 1.0


def lease_s(timeout_s: float) -> float:
    """How long a taken delivery stays with its sender: well past its longest try (connects and a read)."""
    return max(60.0, 10 * timeout_s)


class Loop:
    """Hands due deliveries to `threads` threads until `stop` is set; then lets the tries under way end."""

    def __init__(
        self,
        sender: Sender,
        deliveries: WebhookStore,
        *,
        stop: threading.Event,
        threads: int = 8,
        alive: Callable[[], None] = lambda: None,
    ) -> None:
        self.sender = sender
        self.deliveries = deliveries
        self.stop = stop
        self.threads = threads
        self.alive = alive
        self.lease_s = max(lease_s(sender.settings.webhook_timeout_s), 2 * sender.settings.webhook_deadline_s)

    def run(self) -> None:
        """Deliver until told to stop."""
        running: set[Future[Attempt | None]] = set()
        with ThreadPoolExecutor(self.threads, thread_name_prefix="webhook") as pool:
            while not self.stop.is_set():
                self.alive()
                running = {f for f in running if not _finished(f)}
                free = self.threads - len(running)
                try:
                    taken = self._take(free) if free else []
                    pause = self._pause() if not taken else 0.0
                except UnavailableError as exc:
                    log.warning("webhook deliveries wait for Redis: %s", exc)
                    taken, pause = [], OUTAGE_PAUSE_S
                for member, lease in taken:
                    running.add(pool.submit(self.sender.attempt, member, lease=lease))
                if not free and running:
                    wait(running, timeout=IDLE_S, return_when=FIRST_COMPLETED)
                elif pause:
                    self.stop.wait(pause)
            wait(running)
            for future in running:
                _finished(future)

    def _take(self, count: int) -> list[tuple[str, float]]:
        now = time.time()
        lease = now + self.lease_s
        return [(m, lease) for m in self.deliveries.take_due(now=now, lease_until=lease, limit=count)]

    def _pause(self) -> float:
        due = self.deliveries.next_due()
        if due is None:
            return IDLE_S
        return min(max(due - time.time(), MIN_PAUSE_S), IDLE_S)


def _finished(future: Future[Attempt | None]) -> bool:
    """Whether the try ended; one that failed (Redis away, a bug) is logged, and its delivery comes back."""
    if not future.done():
        return False
    exc = future.exception()
    if isinstance(exc, UnavailableError):
        log.warning("a webhook delivery waits for Redis (it is tried again when its lease passes): %s", exc)
    elif exc is not None:
        log.error("a webhook delivery failed (it is tried again when its lease passes)", exc_info=exc)
    return True
