"""What keeps one receiver, or one tenant, from holding the sender: a deadline per attempt, a cap per tenant.

- `Watchdog`: an attempt's connection is shut down once its deadline (`LLMB_WEBHOOK_DEADLINE_S`)
  passes, whatever the receiver is doing (trickling its headers or body a byte at a time resets
  every read timeout, never this one): the blocked read returns at once and the attempt is recorded.
- `TenantSlots`: each tenant may have at most `LLMB_WEBHOOK_TENANT_SENDS` attempts under way at once
  in a sender; a delivery past that waits its turn (no attempt is made or recorded for it).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any


class Watchdog:
    """Shuts down every connection an attempt opens once `seconds` have passed since it began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def left(self) -> float:
        """Seconds until the deadline (0 once it passed)."""
        return max(0.0, self.seconds - (time.monotonic() - self.started))

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: note each connection made, so the deadline can end it."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.fired
        if late:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: nothing to end
        sock.shutdown(socket.SHUT_RDWR)


class TenantSlots:
    """How many attempts each tenant has under way in this sender, up to `cap` each."""

    def __init__(self, cap: int) -> None:
        self.cap = max(1, cap)
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, tenant: str) -> bool:
        """Take one of the tenant's slots; False when it has `cap` attempts under way already."""
        with self._lock:
            count = self._counts.get(tenant, 0)
            if count >= self.cap:
                return False
            self._counts[tenant] = count + 1
            return True

    def give_back(self, tenant: str) -> None:
        """Free one of the tenant's slots."""
        with self._lock:
            count = self._counts.get(tenant, 0) - 1
            if count > 0:
                self._counts[tenant] = count
            else:
                self._counts.pop(tenant, None)
