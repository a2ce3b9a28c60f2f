"""A lease holder's identity, and telling whether the process behind one is gone."""

from __future__ import annotations

import os
import socket
import uuid


def new_holder_id() -> str:
    """A lease holder's identity: host, pid and a nonce for pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder: str, *, me: str) -> bool:
    """True when the holder is known to be gone: this very process, or a dead pid on this host."""
    if holder == me:
        return True
    host, _, rest = holder.partition(":")
    if host != socket.gethostname():
        return False
    pid = int(rest.partition(":")[0] or 0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
