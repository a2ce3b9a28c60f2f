"""In-process stand-ins for the API: job and problem builders, and a CLI runner over httpx.MockTransport."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
    status: int, detail: str, *, code: str = "x", errors: list[dict[str, str]] | None = None
) -> httpx.Response:
    """An application/problem+json answer."""
    body: dict[str, Any] = {
        "type": f"urn:llmb:problem:{code}",
        "title": code,
        "status": status,
        "detail": detail,
    }
    body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


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
