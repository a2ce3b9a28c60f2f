"""Celery's consumer, reconnecting to a returning Redis within seconds whatever the outage's length.

Celery calls kombu's `Connection.ensure_connection` with kombu's pauses (2 s, growing by 2 s to
30 s), so after a 20 s outage a worker resumed 10 s after Redis came back. This consumer passes a
short first pause and a cap (`reconnect_max_s`, LLMB_RECONNECT_MAX_S) instead.
"""

from __future__ import annotations

import functools
from typing import Any

from celery.worker.consumer import Consumer


class PromptConsumer(Consumer):
    """A consumer whose broker reconnects pause at most `reconnect_max_s` seconds."""

    reconnect_max_s = 2.0

    def ensure_connected(self, conn: Any) -> Any:
        """Celery's own reconnect loop, with short pauses between the tries."""
        ensure = conn.ensure_connection
        conn.ensure_connection = functools.partial(
            ensure, interval_start=0.2, interval_step=0.5, interval_max=self.reconnect_max_s
        )
        try:
            return super().ensure_connected(conn)
        finally:
            conn.ensure_connection = ensure


def consumer_class(reconnect_max_s: float) -> type[PromptConsumer]:
    """A PromptConsumer subclass with this cap (Celery builds the consumer itself, from the class)."""
    return type("PromptConsumer", (PromptConsumer,), {"reconnect_max_s": reconnect_max_s})
