"""Uploaded and made files (/v1/files) in Redis: each file's metadata, and each tenant's list of them.

The bytes live in the object store under `object_key`; only the metadata is here, with no TTL (a
file lasts until it is deleted, as OpenAI's do).
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from pydantic import BaseModel, ConfigDict
from redis import ConnectionPool, Redis

from shared.errors import NotFoundError
from shared.redis_keys import PREFIX
from shared.store.scripts import redis_errors


def file_key(file_id: str) -> str:
    """String holding one file's metadata as JSON."""
    return f"{PREFIX}:file:{file_id}"


def owner_files(owner: str) -> str:
    """Sorted set of a tenant's file ids, scored by creation time."""
    return f"{PREFIX}:owner:{owner}:files"


def object_key(owner: str, file_id: str) -> str:
    """Where a file's bytes live in the object store: in a folder of its own, under its tenant's."""
    return f"files/{hashlib.sha256(owner.encode()).hexdigest()[:32]}/{file_id}/content"


class FileRecord(BaseModel):
    """A file's metadata as stored; times are epoch seconds."""

    model_config = ConfigDict(frozen=True)

    id: str
    owner: str
    bytes: int
    created_at: int
    filename: str
    purpose: str  # "batch" for uploads; "batch_output" for the files a batch makes
    object_key: str

    def public(self) -> dict[str, Any]:
        """The file as OpenAI's file object."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }


class FileStore:
    """File metadata per tenant: another tenant's file is answered as an unknown one (NotFoundError)."""

    def __init__(self, client: Redis) -> None:
        self._redis = client

    @classmethod
    def on(cls, pool: ConnectionPool) -> FileStore:
        """A store over an existing connection pool (the API's)."""
        return cls(Redis(connection_pool=pool))

    def add(self, record: FileRecord) -> None:
        """Remember a file whose bytes are stored."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(file_key(record.id), record.model_dump_json())
        pipe.zadd(owner_files(record.owner), {record.id: record.created_at})
        with redis_errors():
            pipe.execute()

    def get(self, file_id: str, owner: str) -> FileRecord:
        """The tenant's file; NotFoundError for an unknown id or another tenant's file."""
        with redis_errors():
            raw = cast(bytes | None, self._redis.get(file_key(file_id)))
        record = FileRecord.model_validate_json(raw) if raw else None
        if record is None or record.owner != owner:
            raise NotFoundError(f"No such File object: {file_id}")
        return record

    def delete(self, file_id: str, owner: str) -> FileRecord:
        """Forget the tenant's file (its bytes are the caller's to delete); NotFoundError as `get`."""
        record = self.get(file_id, owner)
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(file_key(file_id))
        pipe.zrem(owner_files(owner), file_id)
        with redis_errors():
            pipe.execute()
        return record

    def list(self, owner: str, *, limit: int, after: str | None = None) -> list[FileRecord]:
        """The tenant's files, newest first, after the file `after` when given (up to `limit`)."""
        index = owner_files(owner)
        with redis_errors():
            start = 0
            if after is not None:
                rank = self._redis.zrevrank(index, after)
                start = 0 if rank is None else cast(int, rank) + 1
            ids = cast(list[bytes], self._redis.zrevrange(index, start, start + limit - 1))
            raws = (
                cast(list[bytes | None], self._redis.mget([file_key(i.decode()) for i in ids])) if ids else []
            )
        return [FileRecord.model_validate_json(raw) for raw in raws if raw]
