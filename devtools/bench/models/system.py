"""Throughput through the whole system: jobs posted at once over HTTP, run by one Celery worker process."""

from __future__ import annotations

import json
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from devtools.bench.models.openai_chat import stream_all
from devtools.bench.models.plan import rate
from devtools.bench.models.shapes import Shapes
from devtools.stack.deployment import Stack
from devtools.stack.process import Service, wait_until
from shared import redis_keys
from shared.vocabulary import JobType

TERMINAL = {"succeeded", "failed", "canceled"}
_RUNNING = re.compile(r"job (\S+): running \(attempt")
_BATCHED = re.compile(r"job (\S+): batched with (\d+) more")


@dataclass(frozen=True)
class SystemRun:
    """One load of jobs through the system: how long it took and what came out."""

    kind: str
    batch_max: int
    cache: str
    jobs: int
    succeeded: int
    wall_s: float
    units: float  # images, or completion tokens summed over the replies
    full: int = 0  # chat replies that ran to max_tokens
    batches: list[int] = field(default_factory=list)
    posting_s: float = 0.0  # from the first POST to the last job record written
    step_ms: float | None = None  # chat: the median reply's milliseconds a token, from its streamed events
    via: str = "jobs"  # "jobs": POST /v1/jobs; "openai": streamed POST /v1/chat/completions

    @property
    def rate(self) -> float:
        """Images or generated tokens per second, first submit to last finish."""
        return self.units / self.wall_s


class SystemBench:
    """Redis and the API started once; a fresh worker per run, configured by LLMB_ variables."""

    def __init__(self, root: Path, shapes: Shapes, *, device: str, batch_wait_ms: int) -> None:
        self.shapes = shapes
        self.device = device
        self.batch_wait_ms = batch_wait_ms
        self.stack = Stack(root)
        try:
            self.stack.start_redis()
            api = self.stack.start_api()
        except BaseException:
            self.stack.stop()
            raise
        self.base = f"http://127.0.0.1:{api.port}"
        self.http = httpx.Client(base_url=self.base, timeout=60)
        self.redis = Redis.from_url(self.stack.env["LLMB_REDIS_URL"])

    def close(self) -> None:
        """Stop every process this bench started."""
        self.http.close()
        self.stack.stop()

    def run(
        self,
        kind: str,
        inputs: list[dict[str, Any]],
        *,
        batch_max: int,
        cache: str = "dynamic",
        rounds: int = 1,
        vias: tuple[str, ...] = ("jobs",),
    ) -> dict[str, SystemRun]:
        """Start a worker, run one untimed batch, then `rounds` timed loads of `inputs` by each way in turn
        (so a shared machine's load falls on all of them alike); the fastest round of each way."""
        worker = self._worker(kind, batch_max=batch_max, cache=cache)
        runs: dict[str, list[SystemRun]] = {via: [] for via in vias}
        try:
            self._wait(self._submit(kind, inputs[:batch_max]))  # warm-up: first calls at this batch size
            for _ in range(rounds):
                for via in vias:
                    runs[via].append(
                        self._round(worker, kind, inputs, batch_max=batch_max, cache=cache, via=via)
                    )
        finally:
            worker.stop()
            self.stack.services.remove(worker)
        return {via: max(done, key=lambda run: run.rate) for via, done in runs.items()}

    def _round(
        self,
        worker: Service,
        kind: str,
        inputs: list[dict[str, Any]],
        *,
        batch_max: int,
        cache: str,
        via: str,
    ) -> SystemRun:
        """Post `inputs` at once on an idle worker and measure until the last job ends (or stream ends)."""
        self._drain(kind)
        offset = worker.log_path.stat().st_size
        began = time.time()
        ids, records, ended = self._load(kind, inputs, via)
        ok = [r for r in records if r["status"] == "succeeded"]
        counts = [json.loads(r["result"]).get("usage", {}).get("completion_tokens", 0) for r in ok]
        run = SystemRun(
            kind,
            batch_max,
            cache,
            jobs=len(inputs),
            succeeded=len(ok),
            wall_s=ended - began,
            units=float(sum(counts)) if kind == "chat" else float(len(ok)),
            full=sum(1 for n in counts if n == inputs[0].get("max_tokens")),
            batches=batch_sizes(worker.log_path.read_bytes()[offset:].decode(errors="replace")),
            posting_s=max(float(r["created_at"] or 0) for r in records) - began,
            step_ms=self._step_ms(ids) if kind == "chat" else None,
            via=via,
        )
        print(
            f"  system {kind} via {via} batch_max {batch_max}: {rate(run.rate)}/s, {run.wall_s:.1f} s",
            flush=True,
        )
        return run

    def _load(
        self, kind: str, inputs: list[dict[str, Any]], via: str
    ) -> tuple[list[str], list[dict[str, Any]], float]:
        """The load's job ids, records and end: the last `finished_at`, or the last `[DONE]` a client read."""
        if via == "openai":
            replies = stream_all(self.base, inputs)
            ids = [r.job_id for r in replies]
            return ids, self._wait(ids), max(r.done_at for r in replies)
        ids = self._submit(kind, inputs)
        records = self._wait(ids)
        return ids, records, max(float(r["finished_at"] or 0) for r in records)

    def _step_ms(self, ids: list[str]) -> float | None:
        """The median job's milliseconds a token, from its first streamed token event to its last."""
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.xrange(redis_keys.events(job_id))
        steps = []
        for events in pipe.execute():
            tokens = [
                (int(entry_id.split(b"-")[0]), json.loads(fields[b"data"])["index"])
                for entry_id, fields in events
                if fields.get(b"type") == b"token"
            ]
            if len(tokens) > 1 and tokens[-1][1] > tokens[0][1]:
                steps.append((tokens[-1][0] - tokens[0][0]) / (tokens[-1][1] - tokens[0][1]))
        return statistics.median(steps) if steps else None

    def _worker(self, kind: str, *, batch_max: int, cache: str) -> Service:
        env = {
            "LLMB_IMAGE_MODEL": str(self.shapes.image),
            "LLMB_CHAT_MODEL": str(self.shapes.chat),
            "LLMB_DEVICE": self.device,
            "LLMB_CHAT_CACHE": cache,
            "LLMB_BATCH_MAX": str(batch_max),
            "LLMB_BATCH_WAIT_MS": str(self.batch_wait_ms),
            "LLMB_CONCURRENCY": "1",
            "LLMB_LOG_LEVEL": "INFO",
        }
        return self.stack.start_worker(queues=kind, name=f"{kind}-batch{batch_max}", env=env)

    def _submit(self, kind: str, inputs: list[dict[str, Any]]) -> list[str]:
        """Post every job at once (16 connections) and return their ids in order."""

        def post(job_input: dict[str, Any]) -> str:
            reply = self.http.post("/v1/jobs", json={"type": kind, "input": job_input})
            if reply.status_code != 202:
                raise RuntimeError(f"POST /v1/jobs answered {reply.status_code}: {reply.text}")
            return str(reply.json()["id"])

        with ThreadPoolExecutor(max_workers=16) as pool:
            return list(pool.map(post, inputs))

    def _wait(self, ids: list[str], *, timeout: float = 3600) -> list[dict[str, Any]]:
        """The job records once every job is terminal, read from Redis every 0.2 s."""
        fields = ["status", "created_at", "finished_at", "result"]

        def finished() -> list[dict[str, Any]] | None:
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids:
                pipe.hmget(redis_keys.job(job_id), fields)
            rows = [dict(zip(fields, (_text(v) for v in row), strict=True)) for row in pipe.execute()]
            return rows if all(row["status"] in TERMINAL for row in rows) else None

        return wait_until(finished, timeout=timeout, what=f"{len(ids)} jobs finished", every=0.2)

    def _drain(self, kind: str) -> None:
        """Wait until the worker took every message left (deliveries of jobs it ran in a batch already)."""
        queue = redis_keys.celery_queue(JobType(kind))
        wait_until(
            lambda: not self.redis.llen(queue), timeout=600, what=f"the {kind} queue drained", every=0.1
        )
        time.sleep(0.5)


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def batch_sizes(log: str) -> list[int]:
    """The batch sizes a worker log shows, in order: each delivered job plus the jobs gathered with it."""
    extra = {m.group(1): int(m.group(2)) for m in _BATCHED.finditer(log)}
    return [1 + extra.get(m.group(1), 0) for m in _RUNNING.finditer(log)]
