"""One load of chat jobs as clients see it: each job posted at its time, its events read to `done`.

The events are read with the `llmb` CLI's follower (cli.events: the SSE parser and the reconnect with
Last-Event-ID), one thread and one connection per job, so every job's stream is open while it runs.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from cli.client import ApiClient
from cli.events import job_events


@dataclass(frozen=True)
class JobTiming:
    """One job from its client's side: seconds from the load's start, its status and reply length."""

    submitted: float  # just before its POST /v1/jobs
    first_token: float | None  # its first `token` event read; None when it had none
    done: float  # its `done` event read
    status: str
    completion_tokens: int

    @property
    def ttft(self) -> float | None:
        """Time to first token in seconds: first `token` event read − submit."""
        return None if self.first_token is None else self.first_token - self.submitted


@dataclass(frozen=True)
class LoadRun:
    """One load's jobs, in input order."""

    jobs: list[JobTiming]
    other_cores: float = 0.0  # what the rest of the machine kept busy meanwhile
    reruns: int = 0  # earlier tries of this load dropped as disturbed by other processes

    @property
    def wall_s(self) -> float:
        """Seconds from the first submit to the last `done`."""
        return max(j.done for j in self.jobs) - min(j.submitted for j in self.jobs)

    @property
    def tokens(self) -> int:
        """Completion tokens of the jobs that succeeded."""
        return sum(j.completion_tokens for j in self.jobs if j.status == "succeeded")

    @property
    def rate(self) -> float:
        """Completion tokens a second, first submit to last finish."""
        return self.tokens / self.wall_s

    @property
    def succeeded(self) -> int:
        """How many jobs succeeded."""
        return sum(1 for j in self.jobs if j.status == "succeeded")

    def ttfts_ms(self) -> list[float]:
        """Every job's time to first token in milliseconds (jobs without a token left out)."""
        return [t * 1000 for j in self.jobs if (t := j.ttft) is not None]


def api_client(base_url: str, jobs: int) -> ApiClient:
    """A CLI client whose pool holds a connection for every job's stream plus its posts."""
    limits = httpx.Limits(max_connections=2 * jobs + 8, max_keepalive_connections=2 * jobs + 8)
    return ApiClient(base_url, timeout=120.0, transport=httpx.HTTPTransport(limits=limits))


def run_load(client: ApiClient, inputs: list[dict[str, Any]], offsets: list[float]) -> LoadRun:
    """Post input i at offsets[i] s after the start, each from its own thread, and follow it to `done`."""
    start = time.perf_counter() + 0.05  # every thread is up before the first post

    def one(job_input: dict[str, Any], offset: float) -> JobTiming:
        time.sleep(max(0.0, start + offset - time.perf_counter()))
        submitted = time.perf_counter()
        job_id = client.submit("chat", job_input)["id"]
        first: float | None = None
        final: dict[str, Any] = {}
        for event in job_events(client, job_id):
            if event.type == "token" and first is None:
                first = time.perf_counter()
            elif event.type == "done":
                final = json.loads(event.data)
        done = time.perf_counter()
        usage = (final.get("result") or {}).get("usage") or {}
        return JobTiming(
            submitted - start,
            None if first is None else first - start,
            done - start,
            str(final.get("status")),
            int(usage.get("completion_tokens", 0)),
        )

    with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
        return LoadRun(list(pool.map(one, inputs, offsets)))
