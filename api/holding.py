"""Requests that hold their connection open (event streams, long-waits): capped per key and per tenant.

A held request takes a place under its key's cap (`Limits.key_max_streams`) and its tenant's
(`Limits.tenant_max_streams`), counted in Redis across API processes; past either it is refused
with 429 and Retry-After before it starts. The place is renewed while the request holds it and
given back when it ends; a process that dies leaves places that lapse within HOLD_TTL_S. While it
waits, a held request looks at its socket every GONE_CHECK_S, so a client that left frees its
place within about a second rather than at the next keep-alive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator

from flask import Response, after_this_request

from api.openai.gone import GONE_CHECK_S, Gone, client_gone, never_gone
from shared.auth import Principal
from shared.errors import TooManyStreamsError, UnavailableError
from shared.limits import Limits
from shared.store.holds import HOLD_TTL_S, Hold, Holds

log = logging.getLogger(__name__)

# What a refused client is told to wait: places free as streams and waits end, at no set time.
RETRY_AFTER_S = 5

__all__ = ["GONE_CHECK_S", "HOLD_TTL_S", "Gone", "Holder", "client_gone", "never_gone"]


class Holder:
    """This process's places under the caps: taken (429 past a cap), renewed while held, given back."""

    def __init__(self, holds: Holds, limits: Limits) -> None:
        self.holds = holds
        self.limits = limits
        self._held: set[Hold] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def take(self, principal: Principal) -> Hold:
        """A place for the caller's held request; TooManyStreamsError (429) past a cap, UnavailableError."""
        key_cap, tenant_cap = self.limits.key_max_streams, self.limits.tenant_max_streams
        got = self.holds.take(principal.key_id, principal.tenant, key_cap=key_cap, tenant_cap=tenant_cap)
        if isinstance(got, str):
            who = "this key" if got == "key" else "this key's tenant"
            cap = key_cap if got == "key" else tenant_cap
            raise TooManyStreamsError(
                f"{who} holds {cap} event streams and long-waits open, its cap; "
                f"try again in {RETRY_AFTER_S} s or end one",
                retry_after_s=RETRY_AFTER_S,
            )
        with self._lock:
            self._held.add(got)
            if self._renewer is None:
                self._renewer = threading.Thread(target=self._renew, name="hold-renewer", daemon=True)
                self._renewer.start()
        return got

    def give_back(self, hold: Hold) -> None:
        """Free the place (once; a Redis outage only leaves it to lapse)."""
        with self._lock:
            if hold not in self._held:
                return
            self._held.discard(hold)
        try:
            self.holds.give_back(hold)
        except UnavailableError as exc:
            log.warning("a held request's place lapses on its own within %s s: %s", HOLD_TTL_S, exc)

    def place(self, principal: Principal) -> Taken:
        """A place for the caller, as a `with` block that gives it back at its end unless a stream took it."""
        return Taken(self, self.take(principal))

    def hold_request(self, principal: Principal) -> None:
        """A place for the rest of the current request (a non-streamed answer): given back as it ends."""
        taken = self.place(principal)

        @after_this_request
        def give_back(response: Response) -> Response:
            taken.__exit__(None, None, None)
            return response

    def close(self) -> None:
        """Stop renewing (the places still held lapse)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)

    def _renew(self) -> None:
        while not self._stop.wait(self.holds.ttl_s / 3):
            with self._lock:
                held = list(self._held)
            try:
                self.holds.renew(held)
            except UnavailableError as exc:
                log.warning("cannot renew %d held requests' places: %s", len(held), exc)


class Taken:
    """A place taken for a request: given back when its `with` block ends, or by the stream it went to."""

    def __init__(self, holder: Holder, hold: Hold) -> None:
        self.holder = holder
        self.hold = hold
        self.handed = False

    def __enter__(self) -> Taken:
        return self

    def __exit__(self, *_: object) -> None:
        if not self.handed:
            self.holder.give_back(self.hold)

    def stream(self, frames: Iterable[str]) -> HeldStream:
        """`frames` as a response body that keeps the place until the server closes it."""
        self.handed = True
        return HeldStream(self.holder, self.hold, frames)


class HeldStream:
    """A streamed body holding a place: the WSGI server's close() gives it back, even if never iterated."""

    def __init__(self, holder: Holder, hold: Hold, frames: Iterable[str]) -> None:
        self.holder = holder
        self.hold = hold
        self.frames = frames

    def __iter__(self) -> Iterator[str]:
        return iter(self.frames)

    def close(self) -> None:
        """End the stream's frames and free its place."""
        try:
            close = getattr(self.frames, "close", None)
            if close is not None:
                close()
        finally:
            self.holder.give_back(self.hold)
