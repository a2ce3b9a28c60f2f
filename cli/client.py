"""A small typed client for the jobs API over httpx, with one exception for every failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import httpx

from cli.problems import ApiError, origin_text, problem_error
from cli.schemas import ApiKey, AttemptList, Job, JobPage, KeyList, UsageReport

__all__ = [
    "TERMINAL",
    "ApiClient",
    "ApiError",
    "ApiKey",
    "AttemptList",
    "Job",
    "JobPage",
    "KeyList",
    "ResultBody",
    "Submission",
]

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
# The events stream is quiet between events, but for a comment every 15 s; allow that much more.
STREAM_GRACE_S = 30.0
URL_HINT = "(set --url or LLMB_URL to the API's address)"


@dataclass(frozen=True)
class ResultBody:
    """A downloaded result: its media type and its bytes."""

    content_type: str
    data: bytes

    @property
    def is_json(self) -> bool:
        """True when the result is a JSON document rather than a file."""
        return self.content_type.split(";")[0].strip().endswith("json")


@dataclass(frozen=True)
class Submission:
    """A job as POST /v1/jobs answered it, and whether that was a replay of an Idempotency-Key's job."""

    job: Job
    replayed: bool = False


class ApiClient:
    """Typed calls to the LLM Backend HTTP API; every failure raises ApiError."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            event_hooks={"request": [self._keep_key_home]},
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def submit(self, job_type: str, job_input: dict[str, Any]) -> Job:
        """Create a job and return it as the API answered (202 queued, or 200 when already done)."""
        return self.create(job_type, job_input).job

    def create(
        self,
        job_type: str,
        job_input: dict[str, Any],
        *,
        options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Create a job with more body members (`webhook`, `deadline_s`) and an Idempotency-Key."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body = {"type": job_type, "input": job_input, **(options or {})}
        response = self._send("POST", "v1/jobs", json=body, headers=headers)
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Submission(cast(Job, response.json()), replayed)

    def models(self) -> list[dict[str, Any]]:
        """The models the server lists (GET /v1/models), each with its `job_type` and `demo` mark."""
        data = self._send("GET", "v1/models").json().get("data")
        return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []

    def job(self, job_id: str, *, wait_s: int = 0) -> Job:
        """The job; with `wait_s` the server holds the answer until it is terminal or `wait_s` pass."""
        params = {"wait": str(wait_s)} if wait_s else None
        timeout = self.timeout + wait_s
        response = self._send("GET", f"v1/jobs/{_seg(job_id)}", params=params, timeout=timeout)
        return cast(Job, response.json())

    def queue_workers(self, queue: str) -> int | None:
        """Live workers serving `queue` (GET /v1/queues); None when the API does not say (e.g. 403)."""
        try:
            stats = self._send("GET", "v1/queues").json().get("queues", {}).get(queue)
        except (ApiError, ValueError, AttributeError):
            return None
        workers = stats.get("workers") if isinstance(stats, dict) else None
        return workers if isinstance(workers, int) else None

    def webhook_attempts(self, job_id: str) -> AttemptList:
        """The job's webhook delivery attempts, oldest first."""
        return cast(AttemptList, self._send("GET", f"v1/jobs/{_seg(job_id)}/webhooks").json())

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job and return it."""
        return cast(Job, self._send("POST", f"v1/jobs/{_seg(job_id)}/cancel").json())

    def jobs(self, *, limit: int) -> JobPage:
        """The newest `limit` jobs of the caller (one page)."""
        return cast(JobPage, self._send("GET", "v1/jobs", params={"limit": str(limit)}).json())

    def result(self, job_id: str, *, index: int | None = None) -> ResultBody:
        """A finished job's result, following a redirect to a presigned object-store URL."""
        path = f"v1/jobs/{_seg(job_id)}/result" + ("" if index is None else f"/{index}")
        response = self._send("GET", path, follow_redirects=True)
        return ResultBody(response.headers.get("content-type", "application/octet-stream"), response.content)

    def create_key(self, body: dict[str, Any]) -> ApiKey:
        """Create an API key (admin scope); the answer holds the whole key, shown this once."""
        return cast(ApiKey, self._send("POST", "v1/keys", json=body).json())

    def keys(self, *, tenant: str | None = None) -> KeyList:
        """The API keys, of one tenant when given (admin scope)."""
        params = {"tenant": tenant} if tenant else None
        return cast(KeyList, self._send("GET", "v1/keys", params=params).json())

    def usage(self, params: dict[str, str]) -> UsageReport:
        """Usage totals (GET /v1/usage with these query parameters)."""
        return cast(UsageReport, self._send("GET", "v1/usage", params=params).json())

    def key(self, key_id: str) -> ApiKey:
        """One API key with its spend this period (admin scope)."""
        return cast(ApiKey, self._send("GET", f"v1/keys/{_seg(key_id)}").json())

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke an API key (admin scope) and return it."""
        return cast(ApiKey, self._send("DELETE", f"v1/keys/{_seg(key_id)}").json())

    @contextmanager
    def events(self, job_id: str, *, last_id: str | None = None) -> Iterator[httpx.Response]:
        """The job's open Server-Sent Events stream, after event `last_id` when given.

        Failures to connect, error answers and failures while reading the stream raise ApiError.
        """
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_id:
            headers["Last-Event-ID"] = last_id
        timeout = httpx.Timeout(self.timeout, read=self.timeout + STREAM_GRACE_S)
        path = f"v1/jobs/{_seg(job_id)}/events"
        try:
            with self.http.stream("GET", path, headers=headers, timeout=timeout) as response:
                if response.is_error:
                    raise problem_error(response)
                kind = response.headers.get("content-type", "")
                if not kind.startswith("text/event-stream"):
                    raise ApiError(
                        f"the events of job {job_id} came as {kind or 'no media type'}, "
                        "not text/event-stream",
                        status=0,
                        code="protocol",
                    )
                yield response
        except httpx.RequestError as exc:
            raise self.failure(exc) from exc

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.RequestError as exc:
            raise self.failure(exc) from exc
        if response.is_error:
            raise problem_error(response)
        return response

    def failure(self, exc: httpx.RequestError) -> ApiError:
        """The ApiError for a request that got no (whole) answer."""
        where = _origin(exc, self.base_url)
        if isinstance(exc, httpx.TimeoutException):
            return ApiError(f"no answer from {where} in time", code="timeout")
        if isinstance(exc, httpx.TransportError):
            return ApiError(f"the server at {where} is unreachable ({exc}) {URL_HINT}", code="unreachable")
        return ApiError(f"the request to {where} failed: {exc}", code="request")

    def _keep_key_home(self, request: httpx.Request) -> None:
        # httpx strips Authorization on cross-origin redirects except http -> https on the same
        # host; a presigned URL must never carry our key, so drop it for any other origin.
        if _origin_of(request.url) != _origin_of(self.base_url):
            request.headers.pop("Authorization", None)


def _seg(value: str) -> str:
    """One path segment, escaped so an id can never walk to another route."""
    return quote(value, safe="")


def _origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _origin(exc: httpx.RequestError, fallback: httpx.URL) -> str:
    try:
        url = exc.request.url
    except RuntimeError:
        url = fallback
    return origin_text(url)
