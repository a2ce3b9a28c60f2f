"""A bound on how long a request body may take to arrive: whole within `Limits.body_timeout_s`, else 408.

Each read of the body runs under a gevent timeout set to what is left of the bound (counted from
when the request's headers were in), so a client that trickles its body a byte at a time holds a
connection for that long at most. The 408 ends the connection (what is left of the body is never
read). The bound needs gevent's sockets (gunicorn's gevent workers, as deployed); elsewhere the body
is read as before.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from shared.errors import BodyTimeoutError

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_TIMED_OUT = "llmb.body_timed_out"


def _gevent_sockets() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent comes with the API's dependencies
        return False
    return bool(monkey.is_module_patched("socket"))


class DeadlineInput:
    """A request's body stream whose reads end with BodyTimeoutError once the bound has passed."""

    def __init__(self, stream: IO[bytes], environ: dict[str, Any], seconds: int) -> None:
        self.stream = stream
        self.environ = environ
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def read(self, *args: Any) -> bytes:
        """As the stream's read, within the bound."""
        return self._bounded(self.stream.read, *args)

    def readline(self, *args: Any) -> bytes:
        """As the stream's readline, within the bound."""
        return self._bounded(self.stream.readline, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)  # anything else the server's stream offers, unbounded

    def _bounded(self, read: Callable[..., bytes], *args: Any) -> bytes:
        from gevent import Timeout

        refusal = BodyTimeoutError(f"the body did not arrive whole within {self.seconds} s")
        left = self.deadline - time.monotonic()
        try:
            if left <= 0:
                raise refusal
            with Timeout(left, refusal):
                return read(*args)
        except BodyTimeoutError:
            self.environ[_TIMED_OUT] = True
            raise


class BodyDeadline:
    """WSGI middleware: the body of each request under gevent must arrive within `seconds` (408)."""

    def __init__(self, app: WsgiApp, seconds: int) -> None:
        self.app = app
        self.seconds = seconds
        self.enabled = _gevent_sockets()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve the request with its body bounded; a 408 for a late body also closes the connection."""
        if not self.enabled or "wsgi.input" not in environ or not _has_body(environ):
            return self.app(environ, start_response)
        environ["wsgi.input"] = DeadlineInput(environ["wsgi.input"], environ, self.seconds)

        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            sock = environ.get("gunicorn.socket")
            if environ.get(_TIMED_OUT) and sock is not None:
                with contextlib.suppress(OSError):  # the rest of the body is never read: the connection ends
                    sock.shutdown(socket.SHUT_RD)
            return start_response(status, headers, *rest)

        return self.app(environ, start)


def _has_body(environ: dict[str, Any]) -> bool:
    """Whether the request says a body follows: a length above 0, or chunked framing."""
    length = environ.get("CONTENT_LENGTH") or "0"
    return length != "0" or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
