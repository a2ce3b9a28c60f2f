"""The interfaces of object storage, and the deterministic result key scheme."""

from __future__ import annotations

from typing import Protocol


def result_key(job_id: str, name: str) -> str:
    """Where a job's result object lives: the same key however often the job runs."""
    return f"{result_prefix(job_id)}{name}"


def result_prefix(job_id: str) -> str:
    """The folder of a job's result objects."""
    return f"results/{job_id}/"


class ObjectReader(Protocol):
    """Reads result objects and hands out download URLs (all the API needs)."""

    def get(self, key: str) -> bytes:
        """The object's bytes, or NotFoundError."""

    def presigned_url(self, key: str, *, content_type: str) -> str | None:
        """A short-lived URL a client can fetch directly, or None where the store has none."""

    def check(self) -> None:
        """Raise StorageError unless the store answers."""

    def close(self) -> None:
        """Close the reader's connections."""


class ObjectStore(Protocol):
    """Stores result objects (what the workers need); a write is all-or-nothing for readers."""

    def get(self, key: str) -> bytes:
        """The object's bytes, or NotFoundError."""

    def check(self) -> None:
        """Raise StorageError unless the store answers."""

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store `data` under `key`, replacing any earlier object."""

    def prepare(self) -> None:
        """Make the store ready to take writes (create the bucket or folder)."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix` (a folder, ending in "/"); how many.

        Raises StorageError when the store does not answer.
        """
