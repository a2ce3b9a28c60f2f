"""Whether a streaming client is still there, asked of its socket without blocking.

A WSGI app learns that a client left only when a write fails, which for a quiet stream is at the next
keep-alive. Under gunicorn the request's socket is in the environ: a socket that reads as closed
(readable, and a peek returns no bytes) is a client that left.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable

from flask import request

# How often a quiet stream asks whether its client is still there (seconds).
GONE_CHECK_S = 1.0

Gone = Callable[[], bool]


class ClientGone(Exception):  # noqa: N818 - a signal, not a failure
    """The client of a stream closed its connection."""


def never_gone() -> bool:
    """A client that cannot be watched (no socket: the test client, other servers) is taken to be there."""
    return False


def client_gone() -> Gone:
    """For the current request: a check that its client closed the connection (never blocks)."""
    sock = request.environ.get("gunicorn.socket")
    if sock is None or not hasattr(sock, "recv"):
        return never_gone

    def gone() -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset, or already closed
            return True

    return gone
