"""Object storage for results: S3 (any S3, MinIO included) or a local folder, behind one interface."""

from __future__ import annotations

from shared.settings import Settings
from shared.storage.base import ObjectReader, ObjectStore, result_key, result_prefix


def open_storage(settings: Settings) -> ObjectStore:
    """The object store workers write results to; S3 code is imported only when used."""
    if settings.storage == "s3":
        from shared.storage.s3 import S3Store

        return S3Store.from_settings(settings)
    from shared.storage.local import LocalStore

    return LocalStore(settings.objects_dir)


def open_reader(settings: Settings) -> ObjectReader:
    """What the API reads results through: the same store, but S3 without boto3 (see s3_reader)."""
    if settings.storage == "s3":
        from shared.storage.s3_reader import S3Reader

        return S3Reader(settings)
    from shared.storage.local import LocalStore

    return LocalStore(settings.objects_dir)


__all__ = ["ObjectReader", "ObjectStore", "open_reader", "open_storage", "result_key", "result_prefix"]
