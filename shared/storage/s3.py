"""The workers' S3 object store through boto3, with settings MinIO and other S3 servers accept."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import NotFoundError, StorageError
from shared.settings import Settings

_MISSING = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}


def _client(endpoint: str, settings: Settings) -> Any:
    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        # boto3 1.36+ sends checksum headers older MinIO rejects (boto3#4392).
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=10,
    )
    key, secret = settings.s3_access_key, settings.s3_secret_key
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=settings.s3_region,
        aws_access_key_id=key.get_secret_value() if key else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=config,
    )


class S3Store:
    """Objects in one private bucket, written by the workers (the API reads through `S3Reader`)."""

    def __init__(self, client: Any, *, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """A client for the endpoint the workers reach."""
        assert settings.s3_endpoint_url is not None
        return cls(_client(settings.s3_endpoint_url, settings), bucket=settings.s3_bucket)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFoundError(f"no object {key}") from exc
            raise StorageError(f"cannot read {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def delete_prefix(self, prefix: str) -> int:
        try:
            listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
            keys = [{"Key": item["Key"]} for item in listed.get("Contents", [])]
            if keys:  # a job has at most a few objects: one page, one request
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot delete {prefix}: {exc}") from exc
        # Quiet mode answers only the objects it could not delete: those are not deleted, say so.
        refused = answer.get("Errors", []) if keys else []
        if refused:
            why = f"{refused[0].get('Code')}: {refused[0].get('Message')}"
            raise StorageError(f"cannot delete {prefix}: {len(refused)} object(s) refused ({why})")
        return len(keys)

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"bucket {self.bucket} is unavailable: {exc}") from exc

    def prepare(self) -> None:
        """Create the bucket when it does not exist yet (workers call this at start)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _MISSING:
                raise StorageError(f"bucket {self.bucket} is unavailable: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"bucket {self.bucket} is unavailable: {exc}") from exc
        try:
            self.client.create_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot create bucket {self.bucket}: {exc}") from exc
