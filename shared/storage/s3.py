"""S3 object storage through boto3, with settings MinIO and other S3 servers accept."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import NotFoundError, StorageError
from shared.settings import Settings

_MISSING = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}


def _client(session: boto3.session.Session, endpoint: str, settings: Settings) -> Any:
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
    return session.client(
        "s3",
        endpoint_url=endpoint,
        region_name=settings.s3_region,
        aws_access_key_id=key.get_secret_value() if key else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=config,
    )


class S3Store:
    """Objects in one private bucket; clients download through short-lived presigned URLs."""

    def __init__(
        self, client: Any, public_client: Any, *, bucket: str, presign_ttl_s: int, redirect: bool
    ) -> None:
        self.client = client
        self.public_client = public_client
        self.bucket = bucket
        self.presign_ttl_s = presign_ttl_s
        self.redirect = redirect

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """Clients for the internal endpoint and, for presigning, the one clients reach."""
        assert settings.s3_endpoint_url is not None
        # One session: a second client from it shares the loaded service model (~12 MiB less).
        session = boto3.session.Session()
        client = _client(session, settings.s3_endpoint_url, settings)
        public = settings.s3_public_url
        # A presigned URL signs the host, so it must be minted for the host clients use.
        public_client = _client(session, public, settings) if public else client
        return cls(
            client,
            public_client,
            bucket=settings.s3_bucket,
            presign_ttl_s=settings.presign_ttl_s,
            redirect=settings.s3_redirect,
        )

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

    def presigned_url(self, key: str, *, content_type: str) -> str | None:
        if not self.redirect:
            return None
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type}
        url: str = self.public_client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.presign_ttl_s
        )
        return url

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
