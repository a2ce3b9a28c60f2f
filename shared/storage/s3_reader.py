"""The API's read side of S3: SigV4-signed plain HTTP, without loading boto3's S3 service model.

The API only presigns downloads, reads an object now and then and checks the bucket, so it signs
those requests with botocore's own SigV4 signers over urllib3. That keeps the ~20 MiB that a boto3
S3 client costs out of every API process; the workers, which upload, use `S3Store` (boto3).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import urllib3
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from shared.errors import NotFoundError, StorageError
from shared.settings import Settings


class S3Reader:
    """Reads one private bucket and mints short-lived presigned download URLs for its objects."""

    def __init__(self, settings: Settings) -> None:
        assert settings.s3_endpoint_url is not None
        key, secret = settings.s3_access_key, settings.s3_secret_key
        self.credentials = Credentials(
            key.get_secret_value() if key else "", secret.get_secret_value() if secret else ""
        )
        self.endpoint = settings.s3_endpoint_url.rstrip("/")
        # A presigned URL signs the host, so it must be minted for the host clients use.
        self.public = (settings.s3_public_url or settings.s3_endpoint_url).rstrip("/")
        self.bucket = settings.s3_bucket
        self.region = settings.s3_region
        self.presign_ttl_s = settings.presign_ttl_s
        self.redirect = settings.s3_redirect
        self.http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2.0, read=10.0),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
        )

    def _url(self, base: str, key: str = "") -> str:
        return f"{base}/{self.bucket}/{quote(key, safe='/~')}" if key else f"{base}/{self.bucket}"

    def _send(self, method: str, url: str) -> urllib3.BaseHTTPResponse:
        request = AWSRequest(method=method, url=url)
        S3SigV4Auth(self.credentials, "s3", self.region).add_auth(request)
        try:
            return self.http.request(method, url, headers=dict(request.headers.items()))
        except urllib3.exceptions.HTTPError as exc:
            raise StorageError(f"S3 at {self.endpoint} is unavailable: {exc}") from exc

    def get(self, key: str) -> bytes:
        response = self._send("GET", self._url(self.endpoint, key))
        if response.status == 404:
            raise NotFoundError(f"no object {key}")
        if response.status != 200:
            raise StorageError(f"cannot read {key}: S3 answered {response.status}")
        return response.data

    def presigned_url(self, key: str, *, content_type: str) -> str | None:
        if not self.redirect:
            return None
        url = f"{self._url(self.public, key)}?{urlencode({'response-content-type': content_type})}"
        request = AWSRequest(method="GET", url=url)
        S3SigV4QueryAuth(self.credentials, "s3", self.region, expires=self.presign_ttl_s).add_auth(request)
        return str(request.url)

    def close(self) -> None:
        self.http.clear()

    def check(self) -> None:
        response = self._send("HEAD", self._url(self.endpoint))
        if response.status != 200:
            raise StorageError(f"bucket {self.bucket} is unavailable: S3 answered {response.status}")
