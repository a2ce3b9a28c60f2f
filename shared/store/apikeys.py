"""API keys in Redis: created with their secret's hash only, listed, revoked, and marked as used."""

from __future__ import annotations

import time
from typing import cast

from pydantic import BaseModel, ConfigDict, field_validator
from redis import Redis

from shared import redis_keys
from shared.auth import Principal, Scope
from shared.budgets import Budget, Period
from shared.errors import NotFoundError
from shared.store.scripts import redis_errors


class KeyRecord(BaseModel):
    """An API key as stored; times are epoch seconds."""

    model_config = ConfigDict(frozen=True)

    id: str
    secret_hash: str
    name: str
    tenant: str
    scopes: tuple[Scope, ...]
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None
    jobs_per_minute: int | None = None
    max_active_jobs: int | None = None
    budget_device_s: float | None = None
    budget_tokens: int | None = None
    budget_period: Period | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _from_redis(cls, value: object, info: object) -> object:
        if isinstance(value, bytes):
            value = value.decode()
        if value == "":
            return None
        if getattr(info, "field_name", "") == "scopes" and isinstance(value, str):
            return tuple(value.split())
        return value

    def usable(self, now: float) -> bool:
        """False once revoked or expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def principal(self) -> Principal:
        """Who a request made with this key acts as."""
        return Principal(
            self.id,
            self.tenant,
            frozenset(self.scopes),
            self.jobs_per_minute,
            self.max_active_jobs,
            self.budget,
        )

    @property
    def budget(self) -> Budget | None:
        """The key's spending budget, None without one."""
        if self.budget_device_s is None and self.budget_tokens is None:
            return None
        return Budget(self.budget_device_s, self.budget_tokens, self.budget_period or "month")

    def to_redis(self) -> dict[str, str]:
        """Encode for HSET (scopes space-separated, none as an empty string)."""
        data = self.model_dump(mode="json")
        data["scopes"] = " ".join(data["scopes"])
        return {k: "" if v is None else str(v) for k, v in data.items()}


class KeyStore:
    """Every API key's record; the secret itself is never stored."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    def create(self, record: KeyRecord) -> None:
        """Store a new key's record and index it."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(redis_keys.api_key(record.id), mapping=record.to_redis())  # type: ignore[arg-type]
        pipe.zadd(redis_keys.api_keys(), {record.id: record.created_at})
        with redis_errors():
            pipe.execute()

    def get(self, key_id: str) -> KeyRecord | None:
        """The key's record, or None for an unknown id."""
        with redis_errors():
            raw = cast(dict[bytes, bytes], self._redis.hgetall(redis_keys.api_key(key_id)))
        return KeyRecord.model_validate({k.decode(): v for k, v in raw.items()}) if raw else None

    def list(self, *, tenant: str | None = None) -> list[KeyRecord]:
        """Every key (of one tenant when given), oldest first."""
        with redis_errors():
            ids = cast(list[bytes], self._redis.zrange(redis_keys.api_keys(), 0, -1))
            pipe = self._redis.pipeline(transaction=False)
            for key_id in ids:
                pipe.hgetall(redis_keys.api_key(key_id.decode()))
            raws = pipe.execute()
        records = [KeyRecord.model_validate({k.decode(): v for k, v in raw.items()}) for raw in raws if raw]
        return [r for r in records if tenant is None or r.tenant == tenant]

    def revoke(self, key_id: str) -> KeyRecord:
        """Refuse the key from now on (its record stays, with the time); NotFoundError for an unknown id."""
        with redis_errors():
            if not self._redis.exists(redis_keys.api_key(key_id)):
                raise NotFoundError(f"no key {key_id}")
            if not self._redis.hget(
                redis_keys.api_key(key_id), "revoked_at"
            ):  # the first revocation's time stays
                self._redis.hset(redis_keys.api_key(key_id), "revoked_at", time.time())
        record = self.get(key_id)
        if record is None:
            raise NotFoundError(f"no key {key_id}")
        return record

    def touch(self, key_id: str, when: float) -> None:
        """Note when the key was last used."""
        with redis_errors():
            self._redis.hset(redis_keys.api_key(key_id), "last_used_at", when)
