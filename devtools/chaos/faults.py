"""The faults a soak injects, one function each; each says when it struck and which jobs it hit."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devtools.chaos import plan as p
from devtools.chaos.cluster import Cluster, Held, process_group
from devtools.chaos.driver import Driver
from devtools.chaos.mix import BUSY_STEPS, JobSpec, image
from devtools.chaos.text import plural
from devtools.stack.process import Service
from devtools.stack.process import wait_until as poll

PICK_S = 60.0  # how long a fault may wait for a job to strike
BUSY_JOBS, BUSY_RUNNING, BUSY_WAIT_S = 2, 2, 30.0  # jobs running when Redis or its clients go
UPLOAD_WAIT_S = 15.0  # how much longer an S3 outage may last to catch a job starting its upload
PROBE = "probe"


@dataclass
class Fault:
    """A fault as it happened: kind, when it struck and ended (epochs), what it hit."""

    kind: str
    at: float
    until: float
    detail: str
    victims: dict[str, int]  # each job running when it struck (held by the killed process) -> its attempts
    figures: dict[str, float] = field(default_factory=dict)
    probe: str | None = None  # a job submitted right after it ended, to time the workers' return

    @property
    def kills(self) -> bool:
        """True when it stopped the processes holding its victims (their attempts may grow)."""
        return self.kind in (p.POOL_KILL, p.WORKER_KILL, p.SCALE_IN)


@dataclass
class Soak:
    """What the faults act on and where they are written down."""

    cluster: Cluster
    driver: Driver
    plan: p.Plan
    faults: list[Fault] = field(default_factory=list)


def _pick(soak: Soak, *, mid_job: bool) -> Held | None:
    """An ordinary running job (no cancel target, poison, overtime) of a live worker, past step 1 if asked."""
    for held in soak.cluster.held():
        if held.job_id in soak.driver.spare or (mid_job and held.step < 1):
            continue
        if soak.cluster.owner(held.pid) is not None:
            return held
    return None


def _victim(soak: Soak, *, mid_job: bool) -> tuple[Held, Service]:
    """A job to strike (waiting up to PICK_S for one) and the worker holding it."""
    held = poll(lambda: _pick(soak, mid_job=mid_job), timeout=PICK_S, what="a running job to strike")
    owner = soak.cluster.owner(held.pid)
    assert owner is not None
    return held, owner


def _held_by(soak: Soak, pids: set[int]) -> dict[str, int]:
    """The running jobs held by these pids, with their attempts."""
    return {h.job_id: h.attempts for h in soak.cluster.held() if h.pid in pids}


def _running(soak: Soak) -> dict[str, int]:
    """Every running job, with its attempts."""
    return {h.job_id: h.attempts for h in soak.cluster.held()}


def _probe(soak: Soak) -> str:
    """Submit a job as soon as the API takes one again; its id."""
    spec = JobSpec(PROBE, image("ok", 64, 64, 1))
    return poll(lambda: soak.driver.probe(spec), timeout=30, what="the API accepting a job again")


def _busy(soak: Soak) -> None:
    """Busy jobs, then wait (up to BUSY_WAIT_S) until BUSY_RUNNING of them are past their first step."""
    soak.driver.burst(BUSY_JOBS, busy=True)

    def running() -> bool:
        """Whether enough busy jobs are past their first step."""
        return sum(1 for h in soak.cluster.held() if h.total == BUSY_STEPS and h.step >= 1) >= BUSY_RUNNING

    with contextlib.suppress(TimeoutError):  # a fault never waits for ever: it strikes what runs
        poll(running, timeout=BUSY_WAIT_S, what="busy jobs running")


def pool_kill(soak: Soak, step: p.Step) -> Fault:
    """SIGKILL the process running a job past its first step: a pool process (prefork), or with threads
    the worker itself, which a new one then replaces."""
    for _ in range(10):  # the job picked may have finished meanwhile: pick another
        held, worker = _victim(soak, mid_job=True)
        before = _held_by(soak, {held.pid})
        if held.job_id in before:
            break
    whole = held.pid == worker.pid
    if whole:
        soak.cluster.retire(worker)  # before the kill, so it is not taken for a crash
    os.kill(held.pid, signal.SIGKILL)
    at = time.time()
    victims = {**_held_by(soak, {held.pid}), **before}
    detail = (
        f"pid {held.pid} of {worker.name} (a job at step {held.step}; {plural(len(victims), 'job')} held)"
    )
    if whole:
        detail += f"; the worker's own process: {soak.cluster.add_worker().name} started"
    return Fault(p.POOL_KILL, at, at, detail, victims)


def worker_kill(soak: Soak, step: p.Step) -> Fault:
    """A burst so that at least min_backlog jobs wait, then SIGKILL a whole worker; a new one replaces it."""
    soak.driver.burst(soak.plan.burst)
    wanted = soak.plan.min_backlog
    poll(lambda: soak.cluster.backlog() >= wanted, timeout=60, what=f"a backlog of {wanted} jobs")
    _, worker = _victim(soak, mid_job=False)
    group = process_group(worker.pid)
    before, backlog = _held_by(soak, group), soak.cluster.backlog()
    soak.cluster.retire(worker)  # before the kill, so it is not taken for a crash
    worker.stop(sig=signal.SIGKILL, group=True)
    at = time.time()
    victims = {**_held_by(soak, group), **before}
    new = soak.cluster.add_worker()
    detail = f"{worker.name} ({len(group)} processes, {plural(len(victims), 'job')} held), {backlog} waiting"
    detail += f"; {new.name} started"
    return Fault(p.WORKER_KILL, at, at, detail, victims, {"backlog": backlog})


def scale_in(soak: Soak, step: p.Step) -> Fault:
    """SIGTERM to a busy worker's main process, as Kubernetes scales in; a new worker then scales out."""
    _, worker = _victim(soak, mid_job=True)
    victims = _held_by(soak, process_group(worker.pid))
    at = time.time()
    soak.cluster.retire(worker)
    worker.stop(sig=signal.SIGTERM, timeout=60)
    until = time.time()
    new = soak.cluster.add_worker()
    code = worker.proc.returncode
    detail = f"{worker.name} ({plural(len(victims), 'job')} held) exited {code} after {until - at:.1f} s"
    detail += f"; {new.name} started"
    return Fault(p.SCALE_IN, at, until, detail, victims, {"exit_s": until - at, "code": float(code)})


def redis_restart(soak: Soak, step: p.Step) -> Fault:
    """Busy jobs; stop Redis (AOF on), keep it down, start it again on its port; then a probe job."""
    _busy(soak)
    victims, backlog = _running(soak), soak.cluster.backlog()
    stopped, back = soak.cluster.restart_redis(step.down_s)
    than = "longer" if step.down_s > p.LEASE_S else "shorter"
    detail = f"down {back - stopped:.1f} s ({than} than the {p.LEASE_S} s lease); {len(victims)} running"
    detail += f", {backlog} waiting"
    figures = {"down_s": back - stopped, "backlog": backlog}
    return Fault(p.REDIS_RESTART, stopped, back, detail, victims, figures, probe=_probe(soak))


def s3_outage(soak: Soak, step: p.Step) -> Fault:
    """Stop SeaweedFS, keep it down, start it again on its ports (after an upload's cancel if planned)."""
    # With the plan's `cancel_upload` the outage goes on (up to UPLOAD_WAIT_S more) until a job that
    # just began storing its result is canceled, as a client giving up on a stalled job would; S3
    # then returns at once, within that upload's retries.
    victims = _running(soak)
    stopped = soak.cluster.stop_s3()
    time.sleep(step.down_s)  # the outage itself
    canceled = _cancel_an_upload(soak) if soak.plan.cancel_upload else None
    back = soak.cluster.start_s3_again()
    detail = f"down {back - stopped:.1f} s; {len(victims)} running"
    if canceled:
        detail += f"; {canceled} canceled {back - canceled_at(soak, canceled):.1f} s before S3 returned"
    return Fault(p.S3_OUTAGE, stopped, back, detail, victims, {"down_s": back - stopped})


def canceled_at(soak: Soak, job_id: str) -> float:
    """When the soak sent its cancel of the job (epoch)."""
    return max(c.at for c in soak.driver.tally.cancels if c.job_id == job_id)


def _cancel_an_upload(soak: Soak) -> str | None:
    """Cancel a job seen starting to store its result (all its steps done); its id (None: none came)."""
    before = {h.job_id for h in soak.cluster.held() if h.total and h.step >= h.total}

    def uploading() -> str | None:
        """A job newly done with its steps (so storing its result), if any."""
        done = [h for h in soak.cluster.held() if h.job_type == "image" and h.total and h.step >= h.total]
        fresh = [h.job_id for h in done if h.job_id not in before and h.job_id not in soak.driver.spare]
        return fresh[0] if fresh else None

    try:
        job_id = poll(uploading, timeout=UPLOAD_WAIT_S, what="a job starting its upload", every=0.05)
    except TimeoutError:
        return None
    soak.driver.cancel_now(job_id)
    return job_id


def client_kill(soak: Soak, step: p.Step) -> Fault:
    """Busy jobs; `CLIENT KILL TYPE normal`, then `TYPE pubsub` (every connection but the soak's); a probe."""
    _busy(soak)
    victims, r = _running(soak), soak.cluster.client()
    at = time.time()
    normal = r.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    pubsub = r.execute_command("CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes")
    detail = f"{normal} normal and {pubsub} pub/sub connections dropped; {len(victims)} running"
    figures = {"normal": float(normal), "pubsub": float(pubsub)}
    return Fault(p.CLIENT_KILL, at, at, detail, victims, figures, probe=_probe(soak))


FAULTS: dict[str, Callable[[Soak, p.Step], Fault]] = {
    p.POOL_KILL: pool_kill,
    p.WORKER_KILL: worker_kill,
    p.SCALE_IN: scale_in,
    p.REDIS_RESTART: redis_restart,
    p.S3_OUTAGE: s3_outage,
    p.CLIENT_KILL: client_kill,
}
