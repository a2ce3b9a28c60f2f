"""Redis clients with timeouts that fail fast instead of hanging a request, to a URL or through Sentinel."""

from __future__ import annotations

from typing import Any

from redis import BlockingConnectionPool, ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from shared.redis_target import RedisTarget
from shared.settings import Settings

# A request that reaches a dead Redis must fail within about a second, not retry for many.
_CONNECT_TIMEOUT_S = 1.0
_COMMAND_TIMEOUT_S = 2.0
# How long a request waits for a free pooled connection. Waiters are not served in order (a greenlet
# that just arrived can take a connection before one that waited), so under a CPU-bound burst an
# unlucky request waited over 2 s in `make bench`; past this it is answered 503 with Retry-After.
_POOL_WAIT_S = 10.0
# Blocking reads (XREAD BLOCK) ask Redis to hold the call for up to this long.
BLOCK_CHUNK_S = 15.0

# A URL, a target, or the settings that name one (LLMB_REDIS_URL or LLMB_REDIS_SENTINELS).
Target = str | RedisTarget | Settings


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):  # type: ignore[misc]
    """A pool of connections to the master Sentinel names that waits for a free one, as the plain pool does.

    Each new connection asks the sentinels for the master, so after a failover the next connection
    reaches the new one; a connection to a master turned replica fails (READONLY) and is dropped.
    """

    def disconnect(self, inuse_connections: bool = True) -> None:
        """Close the pool's connections; a full close also closes those to the sentinels."""
        super().disconnect(inuse_connections=inuse_connections)
        if inuse_connections:
            for sentinel in self.sentinel_manager.sentinels:
                sentinel.connection_pool.disconnect()


def connect(target: Target, *, max_connections: int = 64) -> Redis:
    """A client for ordinary commands: short timeouts, one quick retry.

    A burst past `max_connections` waits (up to `_POOL_WAIT_S`, 10 s) for a free connection instead
    of failing at once; past that, redis-py raises ConnectionError("No connection available.").
    """
    options: dict[str, Any] = dict(
        max_connections=max_connections,
        timeout=_POOL_WAIT_S,
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        socket_timeout=_COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )
    target = _resolve(target)
    if isinstance(target, RedisTarget) and target.uses_sentinel:
        pool: ConnectionPool = _sentinel_pool(target, BlockingSentinelPool, options)
    else:
        pool = BlockingConnectionPool.from_url(_url(target), **options)
    return Redis(connection_pool=pool)


def connect_blocking(target: Target) -> Redis:
    """A client for one blocking reader, whose socket waits past the longest block it asks for."""
    options: dict[str, Any] = dict(
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        socket_timeout=BLOCK_CHUNK_S + 5.0,
        retry=Retry(NoBackoff(), 0),
        max_connections=2,
    )
    target = _resolve(target)
    if isinstance(target, RedisTarget) and target.uses_sentinel:
        return Redis.from_pool(_sentinel_pool(target, BlockingSentinelPool, options))
    return Redis.from_url(_url(target), **options)


def _resolve(target: Target) -> str | RedisTarget:
    return RedisTarget.of(target) if isinstance(target, Settings) else target


def _url(target: str | RedisTarget) -> str:
    return target if isinstance(target, str) else target.url


def _sentinel_pool(target: RedisTarget, kind: type[SentinelConnectionPool], options: dict[str, Any]) -> Any:
    """A pool of `kind` for the target's master, its sentinels asked with short timeouts."""
    sentinel_kwargs: dict[str, Any] = {"socket_connect_timeout": _CONNECT_TIMEOUT_S, "socket_timeout": 1.0}
    if target.sentinel_password:
        sentinel_kwargs["password"] = target.sentinel_password
    manager = Sentinel(list(target.sentinels), sentinel_kwargs=sentinel_kwargs)
    return kind(target.master, manager, password=target.password, db=target.db, **options)
