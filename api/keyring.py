"""Turning a bearer token into a principal: the environment's admin and autoscaler keys, then stored keys.

A stored key's record is cached for at most `ttl_s` (1 s), so a revoked or expired key is refused on
every API process within that time; its `last_used_at` is written at most once per `touch_every_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from shared.auth import Principal, Scope, hash_secret, key_id_of, parse_key, same_hash
from shared.errors import UnauthorizedError
from shared.store.apikeys import KeyRecord, KeyStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Cached:
    record: KeyRecord | None
    fetched_at: float


class KeyRing:
    """Resolves tokens to principals; raises UnauthorizedError (with the key id it could read)."""

    def __init__(
        self,
        store: KeyStore,
        *,
        admin_key: SecretStr | None = None,
        autoscaler_key: SecretStr | None = None,
        ttl_s: float = 1.0,
        touch_every_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.fixed = {
            hash_secret(k.get_secret_value()): p
            for k, p in (
                (admin_key, Principal("admin", "admin", frozenset({Scope.ADMIN}))),
                (autoscaler_key, Principal("autoscaler", "autoscaler", frozenset({Scope.QUEUES_READ}))),
            )
            if k is not None
        }
        self.ttl_s, self.touch_every_s, self.clock = ttl_s, touch_every_s, clock
        self._cache: dict[str, _Cached] = {}
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def principal(self, token: str) -> Principal:
        """Who `token` is; UnauthorizedError when it is malformed, wrong, revoked or expired."""
        for fixed_hash, principal in self.fixed.items():
            if same_hash(hash_secret(token), fixed_hash):
                return principal
        parsed = parse_key(token)
        if parsed is None:
            raise UnauthorizedError("the API key is malformed", reason="malformed", key_id=key_id_of(token))
        key_id, secret = parsed
        record, now = self._record(key_id), self.clock()
        if record is None or not same_hash(hash_secret(secret), record.secret_hash):
            raise UnauthorizedError("the API key is not valid", reason="invalid", key_id=key_id)
        if not record.usable(now):
            state = "revoked" if record.revoked_at is not None else "expired"
            raise UnauthorizedError(f"the API key is {state}", reason=state, key_id=key_id)
        self._touch(key_id, now)
        return record.principal()

    def _record(self, key_id: str) -> KeyRecord | None:
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and now - cached.fetched_at < self.ttl_s:
            return cached.record
        record = self.store.get(key_id)
        with self._lock:
            if len(self._cache) > 10_000:  # unknown ids are cached too: keep guessing cheap but bounded
                self._cache.clear()
            self._cache[key_id] = _Cached(record, now)
        return record

    def _touch(self, key_id: str, now: float) -> None:
        with self._lock:
            due = now - self._touched.get(key_id, float("-inf")) >= self.touch_every_s
            if due:
                self._touched[key_id] = now
        if due:
            self.store.touch(key_id, now)
