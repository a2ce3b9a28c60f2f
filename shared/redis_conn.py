"""Redis clients with timeouts that fail fast instead of hanging a request."""

from __future__ import annotations

from redis import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# A request that reaches a dead Redis must fail within about a second, not retry for many.
_CONNECT_TIMEOUT_S = 1.0
_COMMAND_TIMEOUT_S = 2.0
# How long a request waits for a free pooled connection. Waiters are not served in order (a greenlet
# that just arrived can take a connection before one that waited), so under a CPU-bound burst an
# unlucky request waited over 2 s in `make bench`; past this it is answered 503 with Retry-After.
_POOL_WAIT_S = 10.0
# Blocking reads (XREAD BLOCK) ask Redis to hold the call for up to this long.
BLOCK_CHUNK_S = 15.0


def connect(url: str, *, max_connections: int = 64) -> Redis:
    """A client for ordinary commands: short timeouts, one quick retry.

    A burst past `max_connections` waits (up to `_POOL_WAIT_S`, 10 s) for a free connection instead
    of failing at once; past that, redis-py raises ConnectionError("No connection available.").
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=_POOL_WAIT_S,
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        socket_timeout=_COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


def connect_blocking(url: str) -> Redis:
    """A client for one blocking reader, whose socket waits past the longest block it asks for."""
    return Redis.from_url(
        url,
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        socket_timeout=BLOCK_CHUNK_S + 5.0,
        retry=Retry(NoBackoff(), 0),
        max_connections=2,
    )
