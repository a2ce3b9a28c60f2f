"""`python -m devtools.scaling.redis_cost`: Redis commands and Redis CPU a job costs, submitted then run.

It starts a real Redis, the API (2 processes) and one scripted worker (no model), submits `--jobs`
jobs from 8 threads with no worker running (the POST side), then starts the worker and waits until
every job succeeded (the run side), reading Redis's own INFO commandstats and CPU around each phase.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

from devtools.stack.deployment import Stack
from shared import redis_keys
from shared.vocabulary import JobType

PIPELINE = {"LLMB_IMAGE_PIPELINE": "devtools.chaos.pipeline:PacedImagePipeline", "LLMB_BATCH_MAX": "4"}
UNCAPPED = {
    "LLMB_LIMITS__KEY_JOBS_PER_MINUTE": "1000000",
    "LLMB_LIMITS__QUEUE_MAX_WAITING": "1000000",
    "LLMB_LIMITS__KEY_MAX_ACTIVE_JOBS": "1000000",
}
BODY = {"type": "image", "input": {"prompt": "ok", "steps": 2, "width": 64, "height": 64}}


def sample(redis: Redis) -> tuple[int, float, dict[str, int]]:
    """Commands served so far, Redis CPU seconds so far, calls by command."""
    stats: dict[str, Any] = redis.info("commandstats")
    cpu: dict[str, Any] = redis.info("cpu")
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
    return sum(calls.values()), float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), calls


def post_all(base: str, n: int) -> list[str]:
    """Submit n jobs from 8 threads, each with its own kept-alive connection; their ids."""

    def some(count: int) -> list[str]:
        with httpx.Client(base_url=base, timeout=30) as http:
            answers = [http.post("/v1/jobs", json=BODY) for _ in range(count)]
        assert all(a.status_code == 202 for a in answers), answers[-1].text
        return [str(a.json()["id"]) for a in answers]

    with ThreadPoolExecutor(8) as pool:
        return [i for ids in pool.map(some, [n // 8] * 8) for i in ids]


def idle_cpu_per_s(redis: Redis, seconds: float = 5.0) -> float:
    """Redis CPU seconds a second while nothing asks it anything (its own timers), to subtract."""
    _, cpu0, _ = sample(redis)
    time.sleep(seconds)
    _, cpu1, _ = sample(redis)
    return (cpu1 - cpu0) / seconds


def phase(redis: Redis, action: Any, n: int, idle: float) -> dict[str, object]:
    """Run `action`; per job: commands, Redis CPU ms (less `idle` a second), top commands; wall time."""
    calls0, cpu0, by0 = sample(redis)
    start = time.monotonic()
    action()
    wall = time.monotonic() - start
    calls1, cpu1, by1 = sample(redis)
    top = sorted(((by1[k] - by0.get(k, 0)) / n, k) for k in by1)[-6:]
    return {
        "commands_per_job": (calls1 - calls0) / n,
        "redis_cpu_ms_per_job": (cpu1 - cpu0 - idle * wall) * 1000 / n,
        "jobs_per_s": n / wall,
        "wall_s": wall,
        "top": [f"{k} {c:.1f}" for c, k in reversed(top)],
    }


def main(argv: list[str] | None = None) -> int:
    """Measure both phases and print them, with the jobs/s one Redis core would carry."""
    parser = argparse.ArgumentParser(prog="python -m devtools.scaling.redis_cost", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args(argv)
    stack = Stack(Path(tempfile.mkdtemp(prefix="llmb-redis-cost-")), env=PIPELINE)
    try:
        stack.start_redis(appendonly=True)
        base = f"http://127.0.0.1:{stack.start_api(workers=2, env=UNCAPPED).port}"
        redis = Redis.from_url(stack.env["LLMB_REDIS_URL"])
        ids: list[str] = []
        idle = idle_cpu_per_s(redis)
        posted = phase(redis, lambda: ids.extend(post_all(base, args.jobs)), args.jobs, idle)
        ran = phase(redis, lambda: run_all(stack, redis), args.jobs, idle)
        check_all(base, ids)
        redis.close()
    finally:
        stack.stop()
    total_ms = float(str(posted["redis_cpu_ms_per_job"])) + float(str(ran["redis_cpu_ms_per_job"]))
    print(f"idle Redis: {idle * 1000:.2f} ms CPU a second\nPOST side: {posted}\nrun side:  {ran}")
    print(
        f"Redis CPU a job, submitted and run: {total_ms:.3f} ms -> {1000 / total_ms:,.0f} jobs/s a Redis core"
    )
    return 0


def run_all(stack: Stack, redis: Redis) -> None:
    """Start one worker and wait until nothing waits or runs (two commands each 0.2 s)."""
    stack.start_worker(env={"LLMB_CONCURRENCY": "2"})
    while redis.zcard(redis_keys.waiting(JobType.IMAGE)) or redis.zcard(redis_keys.running(JobType.IMAGE)):
        time.sleep(0.2)


def check_all(base: str, ids: list[str]) -> None:
    """Every job succeeded (after the measure)."""
    with httpx.Client(base_url=base, timeout=60) as http:
        for job_id in ids:
            job = http.get(f"/v1/jobs/{job_id}", params={"wait": 30}).json()
            assert job["status"] == "succeeded", job


if __name__ == "__main__":
    sys.exit(main())
