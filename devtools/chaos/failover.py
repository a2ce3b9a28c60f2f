"""`make chaos`'s failover scenario: Redis under Sentinel, its master SIGKILLed twice under a mixed load.

`python -m devtools.chaos --failover [--append docs/CHAOS.md]`. Each round kills the master, waits
for Sentinel to promote a replica, then brings the old master back as a replica. The figures: jobs
accepted, succeeded, lost (accepted, then gone or never finished) and duplicated (a key that made two
jobs, or a job run twice); per kill, seconds to the promotion, to the first job accepted again and
to the first job a worker started again. It runs once with LLMB_REDIS_WRITE_REPLICAS=0 and once =1.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devtools.chaos.failover_load import Load, Tally
from devtools.chaos.plan import settings
from devtools.stack.deployment import WORKER_READY_S, Stack
from devtools.stack.sentinel import SentinelSet

# The load is one key's: lift its per-minute and queue caps, or 429s would hide the recovery.
UNCAPPED = {
    "LLMB_LIMITS__KEY_JOBS_PER_MINUTE": "1000000",
    "LLMB_LIMITS__QUEUE_MAX_WAITING": "1000000",
    "LLMB_LIMITS__KEY_MAX_ACTIVE_JOBS": "1000000",
}
WARM_S = 8.0  # load before the first kill, and between the rounds
DRAIN_S = 180.0
ENDED = ("succeeded", "failed", "canceled")


@dataclass
class Kill:
    """One kill of the master: seconds from the SIGKILL to each sign of recovery."""

    promoted_s: float
    accepted_s: float | None = None
    consumed_s: float | None = None
    at: float = 0.0  # wall clock of the kill


@dataclass
class Figures:
    """One run's outcome."""

    write_replicas: int
    min_replicas: int = 0  # the Redis side's min-replicas-to-write
    accepted: int = 0
    succeeded: int = 0
    failed: int = 0
    lost: list[str] = field(default_factory=list)  # accepted, then gone (404)
    unfinished: list[str] = field(default_factory=list)  # not ended when the drain ran out
    duplicated: list[str] = field(default_factory=list)  # keys that made two jobs
    rerun: list[str] = field(default_factory=list)  # jobs started more than once (attempts > 1)
    refused: int = 0
    kills: list[Kill] = field(default_factory=list)


def run(root: Path, *, write_replicas: int, min_replicas: int = 0, rounds: int = 2) -> Figures:
    """Start the set and the services, load them, kill the master `rounds` times, then audit."""
    env = {**settings(), **UNCAPPED, "LLMB_REDIS_WRITE_REPLICAS": str(write_replicas)}
    stack = Stack(root, env=env)
    try:
        redis_set = stack.start_redis_sentinel(min_replicas=min_replicas)
        api = stack.start_api(workers=2)
        workers = [stack.start_worker(name=f"worker-{i}", wait=False) for i in range(2)]
        for svc in workers:
            stack.wait_ready(svc, timeout=WORKER_READY_S)
        load = Load(f"http://127.0.0.1:{api.port}")
        load.start()
        kills = []
        for _ in range(rounds):
            time.sleep(WARM_S)
            kills.append(kill_and_recover(redis_set, load.tally))
        time.sleep(WARM_S / 2)
        load.stop()
        figures = audit(f"http://127.0.0.1:{api.port}", load.tally, kills, write_replicas)
        figures.min_replicas = min_replicas
        return figures
    finally:
        stack.stop()


def kill_and_recover(redis_set: SentinelSet, tally: Tally) -> Kill:
    """SIGKILL the master, wait for a promotion and the first job accepted, then rejoin the old one."""
    old = redis_set.kill_master()
    wall, start = time.time(), time.monotonic()  # once it is dead: a request sent before may still land
    redis_set.wait_promoted(old, timeout=120)
    kill = Kill(promoted_s=time.monotonic() - start, at=wall)
    while not (accepted := tally.sent_after(wall)) and time.monotonic() - start < 120:
        time.sleep(0.05)
    kill.accepted_s = accepted[0].at - wall if accepted else None
    redis_set.rejoin(old)
    redis_set.wait_replicas(2, timeout=120)
    return kill


def audit(base: str, tally: Tally, kills: list[Kill], write_replicas: int) -> Figures:
    """Wait for every accepted job to end; count the lost, the duplicated and the recovery figures."""
    figures = Figures(write_replicas, accepted=len(tally.accepted), kills=kills, refused=tally.refused)
    by_key = Counter(a.key for a in tally.accepted)
    ids_by_key: dict[str, set[str]] = {}
    for a in tally.accepted:
        ids_by_key.setdefault(a.key, set()).add(a.job_id)
    figures.duplicated = [k for k, ids in ids_by_key.items() if len(ids) > 1]
    started: dict[str, float] = {}
    deadline = time.monotonic() + DRAIN_S
    with httpx.Client(base_url=base, timeout=30) as http:
        for job_id in {a.job_id for a in tally.accepted}:
            job = final(http, job_id, deadline)
            if job is None or job["status"] not in ENDED:
                (figures.lost if job is None else figures.unfinished).append(job_id)
                continue
            if job["status"] != "succeeded":
                figures.failed += 1
                continue
            figures.succeeded += 1
            if int(str(job["attempts"])) > 1:
                figures.rerun.append(job_id)
            started[job_id] = datetime.datetime.fromisoformat(str(job["started_at"])).timestamp()
    for kill in kills:  # a worker consumes again: the first job submitted after the kill starts
        after = [started[a.job_id] - kill.at for a in tally.sent_after(kill.at) if a.job_id in started]
        kill.consumed_s = min(after) if after else None
    assert sum(by_key.values()) == figures.accepted
    return figures


def final(http: httpx.Client, job_id: str, deadline: float) -> dict[str, object] | None:
    """The job once it ended, or as it is at `deadline`; None when it is gone (404)."""
    while True:
        answer = http.get(f"/v1/jobs/{job_id}", params={"wait": 10})
        if answer.status_code == 404:
            return None
        job: dict[str, object] = answer.json()
        if job["status"] in ENDED or time.monotonic() > deadline:
            return job
