"""Stand-ins for the API (job and problem builders, SSE frames, a CLI runner over httpx.MockTransport),
and a real transport that breaks an event stream on purpose."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from cli.client import Job
from cli.main import main

API = "http://api.test"
JOB_ID = "6f0c2a4e-1111-4222-8333-944455556666"
Handler = Callable[[httpx.Request], httpx.Response]


def job(status: str = "queued", **fields: Any) -> Job:
    """A job as the API shows it, with `fields` overriding the defaults."""
    url = f"{API}/v1/jobs/{fields.get('id', JOB_ID)}"
    body: dict[str, Any] = {
        "id": JOB_ID,
        "type": "image",
        "status": status,
        "input": {"prompt": "a fox"},
        "created_at": "2025-01-02T03:04:05.678Z",
        "started_at": None,
        "finished_at": None,
        "attempts": 0,
        "queue_position": None,
        "progress": None,
        "result": None,
        "error": None,
        "links": {"self": url, "events": f"{url}/events", "cancel": f"{url}/cancel", "result": None},
    }
    body.update(fields)
    return cast(Job, body)


def succeeded(files: int = 1) -> Job:
    """A succeeded image job with `files` result files."""
    urls = [{"url": f"{API}/v1/jobs/{JOB_ID}/result/{i}", "content_type": "image/png"} for i in range(files)]
    return job(
        "succeeded",
        attempts=1,
        progress={"step": 3, "total": 3},
        started_at="2025-01-02T03:04:06.000Z",
        finished_at="2025-01-02T03:04:07.000Z",
        result={"seed": 0, "files": urls},
    )


def problem(
    status: int,
    detail: str,
    *,
    code: str = "x",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """An application/problem+json answer, with more `headers` when given."""
    body: dict[str, Any] = {
        "type": f"urn:llmb:problem:{code}",
        "title": code,
        "status": status,
        "detail": detail,
    }
    body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(
        status, json=body, headers={"content-type": "application/problem+json", **(headers or {})}
    )


def replies(*answers: Job) -> Handler:
    """A handler answering GET job requests with `answers` in turn (the last one repeats)."""
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=queue.pop(0) if len(queue) > 1 else queue[0])

    return handle


@dataclass
class Run:
    """What one CLI run did."""

    code: int
    out: str
    err: str


class Recorder:
    """Wraps a handler and keeps every request it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def streams() -> tuple[io.StringIO, io.StringIO]:
    """Fresh stdout and stderr stand-ins."""
    return io.StringIO(), io.StringIO()


def run_cli(handler: Handler, *args: str, env: dict[str, str] | None = None, url: str = API) -> Run:
    """Run `llmb --url url args...` in-process against `handler`."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["--url", url, *args]
    code = main(argv, env=env or {}, transport=httpx.MockTransport(handler), stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def paths(requests: Iterable[httpx.Request]) -> list[str]:
    """`METHOD url` for each request."""
    return [f"{r.method} {r.url}" for r in requests]


def frame(kind: str, data: object, *, event_id: str | None = None) -> str:
    """One SSE frame as the API writes it."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


def status_frame(state: str, number: int, *, attempts: int = 1, **extra: Any) -> str:
    """A `status` frame with stream id `number-0`."""
    return frame("status", {"status": state, "attempts": attempts, **extra}, event_id=f"{number}-0")


def progress_frame(step: int, total: int, number: int) -> str:
    """A `progress` frame with stream id `number-0`."""
    return frame("progress", {"step": step, "total": total}, event_id=f"{number}-0")


def token_frame(text: str, index: int, number: int) -> str:
    """A chat `token` frame with stream id `number-0`."""
    return frame("token", {"text": text, "index": index}, event_id=f"{number}-0")


def done_frame(final: Job) -> str:
    """The closing `done` frame, carrying the whole job."""
    return frame("done", final)


class DroppingStream(httpx.SyncByteStream):
    """A response body that sends `chunks`, then fails as a reset connection does (or blocks, or stops)."""

    def __init__(self, chunks: Iterable[str], *, fail: BaseException | None = None) -> None:
        self.chunks = [c.encode() for c in chunks]
        self.fail = fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail is not None:
            raise self.fail


def sse(*frames: str, retry_ms: int | None = 0, fail: BaseException | None = None) -> httpx.Response:
    """An event stream answer; `retry_ms` 0 makes reconnects in tests immediate."""
    head = [] if retry_ms is None else [f"retry: {retry_ms}\n\n"]
    stream = DroppingStream([*head, *frames], fail=fail)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


def dropped(*frames: str) -> httpx.Response:
    """An event stream that breaks off after `frames`, as on a network blip."""
    return sse(*frames, fail=httpx.ReadError("connection reset by peer"))


@dataclass
class FakeApi:
    """Answers POST /v1/jobs, GET job, its events (one stream per request, in turn) and cancel."""

    current: Job = field(default_factory=job)
    streams: list[httpx.Response] = field(default_factory=list)
    submitted: Job | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and path == "/v1/jobs":
            return httpx.Response(202, json=self.submitted or self.current)
        if path.endswith("/cancel"):
            return httpx.Response(200, json={**self.current, "status": "canceled"})
        if path.endswith("/events"):
            return self.streams.pop(0)
        return httpx.Response(200, json=self.current)

    def sent(self, method: str = "POST") -> list[Any]:
        """The JSON bodies of the requests with `method`."""
        return [json.loads(r.content) for r in self.requests if r.method == method and r.content]

    def paths(self) -> list[str]:
        """`METHOD path` of each request."""
        return [f"{r.method} {r.url.path}" for r in self.requests]


class BreakingTransport(httpx.HTTPTransport):
    """Real HTTP (no stand-in), except that the first event stream breaks off after `lines` lines."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines
        self.broken = False
        self.resumed_after: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            self.resumed_after.append(request.headers.get("last-event-id"))
        response = super().handle_request(request)
        if self.broken or not request.url.path.endswith("/events"):
            return response
        self.broken = True
        return httpx.Response(
            response.status_code, headers=response.headers, stream=Cut(response.stream, self.lines)
        )


class Cut(httpx.SyncByteStream):
    """A body cut after `lines` newlines, as by a network blip."""

    def __init__(self, inner: httpx.SyncByteStream, lines: int) -> None:
        self.inner, self.lines = inner, lines

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self.inner:
            for line in chunk.splitlines(keepends=True):
                yield line
                seen += 1
                if seen >= self.lines:
                    self.inner.close()
                    raise httpx.ReadError("connection reset (on purpose)")
