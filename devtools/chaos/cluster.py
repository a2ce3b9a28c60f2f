"""The stack under test (Redis with AOF, S3, the API, N workers) and what the faults need to know of it.

Every service starts from the main thread: a child dies with the thread that started it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from redis import Redis
from redis.exceptions import RedisError

from devtools.chaos.access import admin_settings, new_admin_key
from devtools.chaos.plan import QUEUES, Plan, settings
from devtools.stack.deployment import WEBHOOKS_READY_S, WORKER_READY_S, Stack
from devtools.stack.process import Service, port_open, spawn, wait_until
from shared import redis_keys
from shared.vocabulary import JobType

JOB_TYPES = [JobType(q) for q in QUEUES.split(",")]


@dataclass(frozen=True)
class Held:
    """A running job as its record says: who holds it (the pool process's pid), its attempts and progress."""

    job_id: str
    pid: int
    attempts: int
    step: int
    total: int
    job_type: str


def process_group(leader: int) -> set[int]:
    """The pids of every live process in the process group `leader` leads."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == leader:
            found.add(int(stat.parent.name))
    return found


class Cluster:
    """A Stack with its workers by name, plus reads of the running jobs and the backlog from Redis."""

    def __init__(self, root: Path, plan: Plan) -> None:
        self.plan = plan
        self.admin = new_admin_key()
        self.stack = Stack(root, env={**settings(), **admin_settings(self.admin)})
        self.workers: list[Service] = []
        self.started = 0
        self.redis: Redis | None = None
        # Jobs held by a worker that a poison job SIGKILLed (with threads, the worker is its process),
        # by job id with their attempts then; the worker was replaced, as Kubernetes restarts a container.
        self.crash_victims: dict[str, int] = {}
        self.crashes = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.api: Service | None = None
        self.batches: Service | None = None

    @property
    def api_url(self) -> str:
        """The API's base URL."""
        assert self.api is not None
        return f"http://127.0.0.1:{self.api.port}"

    def start(self) -> None:
        """Redis (AOF on), S3, the API (gunicorn, 2 processes), the batch runner, the workers, all ready."""
        self.stack.start_redis(appendonly=True)
        self.stack.start_s3()
        self.api = self.stack.start_api(workers=2)
        bind = {"LLMB_API_BIND": f"127.0.0.1:{self.api.port}"}  # the runner's links follow the API's address
        self.batches = self.stack.start_batches(env=bind, wait=False)
        self.redis = Redis.from_url(
            self.stack.env["LLMB_REDIS_URL"], socket_timeout=5, socket_connect_timeout=1
        )
        for _ in range(self.plan.workers):
            self.add_worker()
        self.stack.wait_ready(self.batches, timeout=WEBHOOKS_READY_S)
        for svc in self.workers:
            self.stack.wait_ready(svc, timeout=WORKER_READY_S)
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()

    def add_worker(self) -> Service:
        """One more worker, started without waiting for it to load its pipelines."""
        self.started += 1
        svc = self.stack.start_worker(queues=QUEUES, name=f"worker-{self.started}", wait=False)
        with self._lock:
            self.workers.append(svc)
        return svc

    def retire(self, svc: Service) -> None:
        """Forget a worker that is about to be stopped or killed (so it is not taken for a crash)."""
        with self._lock:
            if svc in self.workers:
                self.workers.remove(svc)

    def replace_crashed(self) -> None:
        """Replace each worker SIGKILLed by no fault of the soak's (a poison job took its process)."""
        with self._lock:
            crashed = [svc for svc in self.workers if svc.proc.poll() == -signal.SIGKILL]
        for svc in crashed:
            held = {h.job_id: h.attempts for h in self.held() if h.pid == svc.pid}  # Redis away: next time
            with self._lock:
                if svc not in self.workers:
                    continue
                self.workers.remove(svc)
            self.crash_victims.update(held)
            self.crashes += 1
            self.add_worker()

    def _supervise(self) -> None:
        """Every half second, replace crashed workers (as Kubernetes restarts a container) until stopped."""
        while not self._stopping.wait(0.5):
            with contextlib.suppress(RedisError):  # Redis restarting: the next round reads it
                self.replace_crashed()

    def check_workers(self) -> None:
        """Raise unless every worker the soak did not stop, and the batch runner, still run."""
        self.replace_crashed()
        dead = [svc.name for svc in self.workers if svc.proc.poll() is not None]
        if dead:
            raise RuntimeError(f"workers exited on their own: {dead}")
        if self.batches is not None and self.batches.proc.poll() is not None:
            raise RuntimeError(f"the batch runner exited on its own ({self.batches.proc.returncode})")

    def owner(self, pid: int) -> Service | None:
        """The worker whose process group `pid` belongs to."""
        return next((svc for svc in self.workers if pid in process_group(svc.pid)), None)

    def client(self) -> Redis:
        """The soak's own Redis client (it reconnects after a restart)."""
        assert self.redis is not None
        return self.redis

    def held(self) -> list[Held]:
        """Every running job with its holder's pid, read from the queues' running indexes."""
        r = self.client()
        ids = [
            (i.decode(), q)
            for q in JOB_TYPES
            for i in cast(list[bytes], r.zrange(redis_keys.running(q), 0, -1))
        ]
        pipe = r.pipeline(transaction=False)
        for job_id, _ in ids:
            pipe.hmget(redis_keys.job(job_id), "holder", "attempts", "progress")
        out = []
        for (job_id, q), (holder, attempts, progress) in zip(ids, pipe.execute(), strict=True):
            if holder:
                pid = int(holder.decode().split(":")[1])
                done = json.loads(progress) if progress else {}
                step, total = done.get("step", 0), done.get("total", 0)
                out.append(Held(job_id, pid, int(attempts or 0), step, total, q.value))
        return out

    def backlog(self) -> int:
        """How many jobs wait in the soak's queues."""
        r = self.client()
        return sum(cast(int, r.zcard(redis_keys.waiting(q))) for q in JOB_TYPES)

    def restart_redis(self, down_s: float) -> tuple[float, float]:
        """Stop Redis (it writes its AOF), stay down `down_s`, start it on its port: (stopped, back)."""
        port = self.stack.stop_redis()
        stopped = time.time()
        time.sleep(down_s)  # the outage itself
        self.stack.start_redis(port=port, appendonly=True)
        return stopped, time.time()

    def stop_s3(self) -> float:
        """Stop SeaweedFS; when the stop was sent (epoch): it answers nothing from then, though on a busy
        machine it may take its whole grace to exit."""
        assert self.stack.s3 is not None
        sent = time.time()
        self.stack.s3.stop()
        return sent

    def start_s3_again(self) -> float:
        """Start the stopped SeaweedFS on its ports, folder and bucket; when it listens again (epoch)."""
        old = self.stack.s3
        assert old is not None
        cmd = cast(list[str], old.proc.args)  # spawn's own list: the same ports, folder and bucket
        new = spawn(old.name, cmd, log_dir=old.log_path.parent, port=old.port)
        wait_until(port_open(new.port), timeout=60, what="weed mini (S3) again", proc=new.proc)
        self.stack.services[self.stack.services.index(old)] = new
        self.stack.s3 = new
        return time.time()

    def stop(self) -> None:
        """Stop everything, workers first (a restarted Redis comes last in the stack's own order)."""
        self._stopping.set()
        if self.redis is not None:
            self.redis.close()
        for svc in reversed(self.workers):
            svc.stop()
        self.stack.stop()
