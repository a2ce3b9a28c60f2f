"""`make bench`'s long-waits: hundreds held in flight on queued jobs while /health latency is measured."""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis import Redis

from devtools.bench.api.hey import hey
from devtools.bench.api.report import Row, judged, pct
from devtools.stack.process import wait_until

JOB = {"type": "image", "input": {"prompt": "ok", "steps": 1, "width": 64, "height": 64}}
WAIT_S = 60
_SENT = "http11.send_request_body.complete"  # httpcore's trace event once a request's last byte is out


@dataclass(frozen=True)
class Answer:
    """How one long-wait ended: its HTTP status (0 for a transport error), the job's status, and when."""

    code: int
    status: str
    at: float


class LongWaits:
    """`GET /v1/jobs/{id}?wait=…` for every id at once from a background event loop, counted client-side."""

    def __init__(self, url: str, ids: list[str]) -> None:
        self.url, self.ids = url, ids
        self.sent = 0
        self.answers: dict[str, Answer] = {}
        self._thread = threading.Thread(target=lambda: asyncio.run(self._all()), daemon=True)

    @property
    def in_flight(self) -> int:
        """Requests sent in full and not answered yet."""
        return self.sent - len(self.answers)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    async def _all(self) -> None:
        limits = httpx.Limits(max_connections=len(self.ids), max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=self.url, limits=limits, timeout=WAIT_S + 30) as client:
            await asyncio.gather(*(self._one(client, job_id) for job_id in self.ids))

    async def _one(self, client: httpx.AsyncClient, job_id: str) -> None:
        async def trace(event: str, _: dict[str, Any]) -> None:
            if event == _SENT:
                self.sent += 1

        try:
            url, ext = f"/v1/jobs/{job_id}", {"trace": trace}
            reply = await client.get(url, params={"wait": WAIT_S}, extensions=ext)
            status = reply.json()["status"] if reply.status_code == 200 else reply.text[:60]
            self.answers[job_id] = Answer(reply.status_code, status, time.perf_counter())
        except httpx.HTTPError as exc:
            self.answers[job_id] = Answer(0, type(exc).__name__, time.perf_counter())


def xadd_calls(redis: Redis) -> int:
    """XADD calls Redis has served; while no job moves, only the API's hub subscribing makes them."""
    stats: dict[str, Any] = redis.info("commandstats")
    return int(stats.get("cmdstat_xadd", {}).get("calls", 0))


def redis_clients(redis: Redis) -> tuple[int, int]:
    """Clients connected to Redis other than this one, and how many of them are blocked in XREAD."""
    me = redis.client_id()
    others = [c for c in redis.client_list() if int(c["id"]) != me]
    return len(others), sum(1 for c in others if c.get("cmd") == "xread" and "b" in c.get("flags", ""))


@dataclass
class Held:
    """Long-waits on queued jobs: in flight before and after a measurement, what Redis saw, how they ended."""

    wanted: int
    before: int = 0
    after: int = 0
    subscribed: int = 0
    clients: tuple[int, int] = (0, 0)
    answers: list[Answer] = field(default_factory=list)
    wake_ms: list[float] = field(default_factory=list)

    def rows(self) -> list[Row]:
        n, (clients, blocked) = self.wanted, self.clients
        ended = Counter(f"{a.code} {a.status}" for a in self.answers)
        answers = ", ".join(f"{v} × {k}" for k, v in ended.most_common())
        all_canceled = ended["200 canceled"] == n
        wake = f"{pct(self.wake_ms, 50):.1f} / {pct(self.wake_ms, 99):.1f} ms" if self.wake_ms else "n/a"
        return [
            Row(
                "  long-waits in flight before / after the /health runs (client); subscribed in the API",
                f"{self.before} / {self.after}; {self.subscribed}",
                f"{n} / {n}; {n}",
                ok=self.before == self.after == self.subscribed == n,
            ),
            Row(
                "  Redis clients connected during them (XREAD-blocked)",
                f"{clients} ({blocked})",
                "expected: a few per API process (1 here)",
            ),
            Row(
                "  long-wait answers after cancelling their jobs",
                answers,
                f"{n} × 200 canceled",
                ok=all_canceled,
            ),
            Row("  cancel sent → its long-wait answered p50 / p99", wake),
        ]


@contextmanager
def holding_waits(url: str, redis: Redis, n: int) -> Iterator[Held]:
    """Hold `n` long-waits on fresh queued jobs; cancel the jobs on the way out so all of them answer."""
    held = Held(n)
    with httpx.Client(base_url=url, timeout=30) as client:
        ids = [client.post("/v1/jobs", json=JOB).json()["id"] for _ in range(n)]
        xadds, waits = xadd_calls(redis), LongWaits(url, ids)
        waits.start()
        try:
            _settle(waits, lambda: xadd_calls(redis) - xadds, n)
            held.before, held.subscribed = waits.in_flight, xadd_calls(redis) - xadds
            held.clients = redis_clients(redis)
            yield held
            held.after = waits.in_flight
        finally:
            cancelled = {job_id: _cancel(client, job_id) for job_id in ids}
            waits.join(WAIT_S + 60)
            held.answers = list(waits.answers.values())
            held.wake_ms = [
                (waits.answers[i].at - t) * 1000 for i, t in cancelled.items() if i in waits.answers
            ]


def _cancel(client: httpx.Client, job_id: str) -> float:
    """Cancel the job; returns when the request was sent (the `perf_counter` clock)."""
    sent = time.perf_counter()
    client.post(f"/v1/jobs/{job_id}/cancel")
    return sent


def _settle(waits: LongWaits, subscribed: Callable[[], int], n: int) -> None:
    """Wait until all `n` requests are sent and subscribed (30 s at most), then 1 s more for early answers."""
    with contextlib.suppress(TimeoutError):  # then measure what did get there
        wait_until(lambda: waits.sent >= n and subscribed() >= n, timeout=30, what="the waits subscribed")
    time.sleep(1.0)


def health_latency(url: str, n: int) -> tuple[float, float, str, bool]:
    """Median /health p50 and p99 (ms) over 3 hey runs, each run's p99, and whether every answer was 200."""
    runs = [hey(f"{url}/health", n=n, c=10) for _ in range(3)]
    p50 = statistics.median(r.latency_ms.get(50, math.inf) for r in runs)
    p99s = [r.latency_ms.get(99, math.inf) for r in runs]  # hey prints no percentiles when nothing answered
    clean = all(r.codes.get(200) == r.total for r in runs)
    return p50, statistics.median(p99s), "/".join(f"{p:.0f}" for p in p99s), clean


def health_under_waits(url: str, redis: Redis, waiters: int, health_n: int) -> list[Row]:
    """/health latency with no long-waits, then with `waiters` long-waits in flight."""
    idle50, idle99, idle_each, _ = health_latency(url, health_n)
    with holding_waits(url, redis, waiters) as held:
        p50, p99, each, clean = health_latency(url, health_n)
    loaded = judged(
        f"/health p99 with {held.before} of {waiters} long-waits in flight",
        p99,
        "ms",
        "< 50",
        baseline=("idle", idle99),
    )
    in_flight = held.before == held.after == waiters
    return [
        Row(f"/health p99, no long-waits (hey -n {health_n} -c 10)", f"{idle99:.1f} ms [{idle_each}]"),
        Row(
            loaded.metric,
            f"{loaded.measured} [{each}]",
            loaded.baseline,
            loaded.ratio,
            loaded.ok and clean and in_flight,
        ),
        Row("  /health p50 without / with them", f"{idle50:.1f} / {p50:.1f} ms", ratio=p50 / idle50),
        *held.rows(),
    ]
