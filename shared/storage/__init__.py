"""Object storage for results: S3 (any S3, MinIO included) or a local folder, behind one interface."""

from __future__ import annotations

from shared.settings import Settings
from shared.storage.base import ObjectStore, result_key


def open_storage(settings: Settings) -> ObjectStore:
    """The object store the settings name; S3 code is imported only when used."""
    if settings.storage == "s3":
        from shared.storage.s3 import S3Store

        return S3Store.from_settings(settings)
    from shared.storage.local import LocalStore

    return LocalStore(settings.objects_dir)


__all__ = ["ObjectStore", "open_storage", "result_key"]
