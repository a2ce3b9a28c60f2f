"""A folder on disk as the object store of the embedded default."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from shared.errors import NotFoundError, StorageError


class LocalStore:
    """Objects as files under one root; written to a temporary file and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise NotFoundError(f"no object {key}")
        return path

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"no object {key}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix.rstrip("/"))
        if folder == self.root or not folder.is_dir():
            return 0  # a folder's prefix only: never the whole store
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot delete {prefix}: {exc}") from exc
        return count

    def presigned_url(self, key: str, *, content_type: str) -> str | None:
        return None

    def close(self) -> None:
        pass

    def prepare(self) -> None:
        self.check()

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot use {self.root}: {exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")
