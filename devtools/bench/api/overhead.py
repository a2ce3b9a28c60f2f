"""The job overhead: client-observed time of serial jobs minus the worker's own run time."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from redis import Redis

from devtools.bench.api.report import Row, judged, pct
from devtools.bench.api.waits import JOB
from shared import redis_keys


class LeanClient:
    """A keep-alive stdlib HTTP client, light enough that the figures are the system's, not the client's."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> tuple[int, Any]:
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, path, data, {**self.headers, **headers})
        response = self.conn.getresponse()
        return response.status, json.loads(response.read())

    def close(self) -> None:
        self.conn.close()


def serial_job(client: LeanClient, redis: Redis) -> dict[str, float]:
    """One job submitted with `Prefer: wait=10`, split into where its client-observed time went (seconds)."""
    wall, t0 = time.time(), time.perf_counter()
    status, job = client.call("POST", "/v1/jobs", JOB, Prefer="wait=10")
    total = time.perf_counter() - t0
    if status != 200 or job["status"] != "succeeded":
        raise RuntimeError(f"job did not finish within the wait: {status} {job}")
    # The record's raw epoch floats: the JSON view rounds them to milliseconds.
    raw = redis.hmget(redis_keys.job(job["id"]), "created_at", "started_at", "finished_at")
    created, started, finished = (float(v) for v in raw)  # type: ignore[arg-type]
    return {
        "overhead": total - (finished - started),
        "submit → record created": created - wall,
        "queue wait (started − created)": started - created,
        "run (finished − started)": finished - started,
        "finish → response": wall + total - finished,
    }


def job_overhead(url: str, redis: Redis, serial_jobs: int) -> list[Row]:
    """p50 and p99 of client-observed job time minus the worker's run time over serial jobs."""
    client = LeanClient(url)
    try:
        for _ in range(5):
            serial_job(client, redis)  # warm-up: the worker's first job loads its pipeline
        samples = [serial_job(client, redis) for _ in range(serial_jobs)]
        floor = get_round_trips(client, serial_jobs)
    finally:
        client.close()
    ms = {k: [s[k] * 1000 for s in samples] for k in samples[0]}
    p50, p99 = pct(ms["overhead"], 50), pct(ms["overhead"], 99)
    metric = f"job overhead p50 ({serial_jobs} serial jobs, Prefer: wait=10, 1 worker)"
    rows = [judged(metric, p50, "ms", "< 5"), judged("job overhead p99", p99, "ms", "< 20")]
    parts = list(ms.items())[1:]
    parts.append(("GET /v1/jobs/{id} round trip, finished job, no wait", floor))
    return rows + [Row(f"  {k} p50 / p99", f"{pct(v, 50):.1f} / {pct(v, 99):.1f} ms") for k, v in parts]


def get_round_trips(client: LeanClient, n: int) -> list[float]:
    """`n` serial GETs of a finished job (ms each): the floor under the finish → response time."""
    _, job = client.call("POST", "/v1/jobs", JOB, Prefer="wait=10")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = client.call("GET", f"/v1/jobs/{job['id']}")
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"GET answered {status}")
    return times
