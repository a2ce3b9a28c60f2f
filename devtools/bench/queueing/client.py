"""The scenarios' view of the stack: one keep-alive client per tenant, jobs posted at a steady rate, and
the jobs' own times read back from their records."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from redis import Redis

from devtools.bench.api.overhead import LeanClient
from shared import redis_keys
from shared.vocabulary import JobType

IDLE_CLOSE_S = 2.0  # under gunicorn's keepalive (5 s): an idle connection is opened anew, never found closed
TERMINAL = frozenset({b"succeeded", b"failed", b"canceled"})
POLL_S = 0.05
# The job every scenario posts and every benchmark batch line asks for: one scripted 1-step image
# ("ok": no model, no sleep), the same batch key whether posted or read from a batch file.
IMAGE_INPUT: dict[str, Any] = {"prompt": "ok", "width": 64, "height": 64, "steps": 1}
IMAGE_JOB: dict[str, Any] = {"type": "image", "input": IMAGE_INPUT}


class RefusedError(RuntimeError):
    """The API answered a request with an error status."""


class Api:
    """One tenant's connection to the API: its key on every request; RefusedError on an error answer."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.auth = {"Authorization": f"Bearer {key}"}
        self.http = LeanClient(url, self.auth)
        self.last_used = time.monotonic()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The JSON answer of one request; RefusedError unless it is a 2xx."""
        if time.monotonic() - self.last_used > IDLE_CLOSE_S:
            self.http.close()  # the next request connects again
        status, answer = self.http.call(method, path, body)
        self.last_used = time.monotonic()
        if not 200 <= status < 300:
            raise RefusedError(f"{method} {path} answered {status}: {answer}")
        return answer

    def upload(self, data: bytes) -> str:
        """POST /v1/files (multipart, purpose=batch): the new file's id; RefusedError on an error answer."""
        files = {"file": ("bench.jsonl", data, "application/jsonl")}
        answer = httpx.post(
            f"{self.url}/v1/files", headers=self.auth, files=files, data={"purpose": "batch"}, timeout=300
        )
        if answer.status_code != 200:
            raise RefusedError(f"POST /v1/files answered {answer.status_code}: {answer.text[:300]}")
        file_id: str = answer.json()["id"]
        return file_id

    def waiting(self, queue: str) -> int:
        """How many jobs wait in `queue` (GET /v1/queues)."""
        return int(self.call("GET", "/v1/queues")["queues"][queue]["waiting"])

    def settle(self, redis: Redis, timeout: float) -> None:
        """Wait until the image queue is idle: nothing waiting or running, no task message left in its
        Celery list (a canceled job's message is still taken and dropped by the worker)."""
        deadline = time.monotonic() + timeout
        while True:
            image = self.call("GET", "/v1/queues")["queues"]["image"]
            if (
                not image["waiting"]
                and not image["running"]
                and not redis.llen(redis_keys.celery_queue(JobType.IMAGE))
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the image queue was not idle after {timeout:.0f} s: {image}")
            time.sleep(POLL_S)

    def close(self) -> None:
        """Close the keep-alive connection."""
        self.http.close()


def post_steadily(api: Api, n: int, rate: float) -> list[str]:
    """Post `n` IMAGE_JOBs at `rate` a second on a fixed schedule (a late POST delays no other); ids."""
    ids, start = [], time.monotonic()
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ids.append(api.call("POST", "/v1/jobs", IMAGE_JOB)["id"])
    return ids


@dataclass(frozen=True)
class Times:
    """A job's status and epoch times (the record's raw floats: the API's view rounds to milliseconds)."""

    status: str
    created: float
    started: float | None
    finished: float | None


def job_times(redis: Redis, ids: list[str]) -> list[Times]:
    """Each job's Times, read in one pipelined round trip per thousand jobs."""
    out = []
    for start in range(0, len(ids), 1000):
        pipe = redis.pipeline(transaction=False)
        for job_id in ids[start : start + 1000]:
            pipe.hmget(redis_keys.job(job_id), "status", "created_at", "started_at", "finished_at")
        for status, created, started, finished in pipe.execute():
            out.append(
                Times(
                    status=status.decode(),
                    created=float(created),
                    started=float(started) if started else None,
                    finished=float(finished) if finished else None,
                )
            )
    return out


def wait_ended(redis: Redis, ids: list[str], timeout: float) -> list[Times]:
    """Wait until every job is terminal; their Times. TimeoutError names how many had not ended."""
    pending, deadline = list(ids), time.monotonic() + timeout
    while pending:
        statuses = []
        for start in range(0, len(pending), 1000):
            pipe = redis.pipeline(transaction=False)
            for job_id in pending[start : start + 1000]:
                pipe.hget(redis_keys.job(job_id), "status")
            statuses += pipe.execute()
        pending = [job_id for job_id, s in zip(pending, statuses, strict=True) if s not in TERMINAL]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} of {len(ids)} jobs had not ended after {timeout:.0f} s")
        if pending:
            time.sleep(POLL_S)
    return job_times(redis, ids)


def queue_waits_ms(times: list[Times]) -> list[float]:
    """Each started job's queue wait (started − created), in ms."""
    return [(t.started - t.created) * 1000 for t in times if t.started is not None]
