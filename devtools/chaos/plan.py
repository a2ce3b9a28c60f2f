"""What a soak run does: its load, its fault schedule and the settings of the stack it runs on."""

from __future__ import annotations

from dataclasses import dataclass

PIPELINE = "devtools.chaos.pipeline:PacedImagePipeline"
LEASE_S = 10  # LLMB_LEASE_TTL_S: short, so a lost worker's jobs come back within seconds
TIME_LIMIT_S = 30  # LLMB_JOB_TIME_LIMIT_S: the overtime job runs past it

# Every fault kind, in the words the report uses.
POOL_KILL = "pool SIGKILL"
WORKER_KILL = "worker SIGKILL"
SCALE_IN = "SIGTERM scale-in"
REDIS_RESTART = "Redis restart"
S3_OUTAGE = "S3 outage"
CLIENT_KILL = "CLIENT KILL"
KINDS = (POOL_KILL, WORKER_KILL, SCALE_IN, REDIS_RESTART, S3_OUTAGE, CLIENT_KILL)


@dataclass(frozen=True)
class Step:
    """One fault of the schedule: its kind, when it strikes (s after the load starts), how long it lasts."""

    kind: str
    at_s: float
    down_s: float = 0.0


@dataclass(frozen=True)
class Plan:
    """A soak run: how many jobs, how fast, which faults when, and how long the end may take."""

    name: str
    target_jobs: int  # the load runs until this many jobs were accepted and the schedule is done
    rate: float  # steady submissions per second (exponential gaps)
    burst: int  # jobs submitted at once before each whole-worker kill
    min_backlog: int  # waiting jobs a whole-worker kill needs
    workers: int
    steps: tuple[Step, ...]
    drain_s: float  # how long every accepted job may take to finish once the load stopped
    seed: int = 9
    cancel_every: int = 40  # every n-th steady job is canceled while it runs
    queued_cancel_every: int = 5  # every n-th burst job is canceled while it waits
    cancel_upload: bool = False  # cancel a job whose upload waits out the S3 outage
    batch_lines: int = 40  # image lines of the /v1/batches batch submitted as the load starts (+1 invalid)
    batch_active: int = 2  # its key's cap on active jobs: the runner enqueues its lines a few at a time

    def count(self, kind: str) -> int:
        """How many faults of this kind the schedule holds."""
        return sum(1 for s in self.steps if s.kind == kind)


def settings() -> dict[str, str]:
    """The LLMB_ settings every service of the soak gets (the rest are the defaults)."""
    return {
        "LLMB_IMAGE_PIPELINE": PIPELINE,
        "LLMB_LEASE_TTL_S": str(LEASE_S),
        "LLMB_JOB_TIME_LIMIT_S": str(TIME_LIMIT_S),
        "LLMB_BATCH_MAX": "4",
        # Its paced pipeline sleeps rather than computes: two batches at once, as two pool processes ran.
        "LLMB_DEVICE_BATCHES": "2",
    }


QUEUES = "image,embed"

QUICK = Plan(
    name="quick",
    target_jobs=200,
    rate=1.0,
    burst=240,  # the threads pool claims each worker's share at once: a larger burst leaves the backlog
    min_backlog=100,
    workers=2,
    cancel_every=8,
    drain_s=120,
    cancel_upload=True,
    steps=(
        Step(POOL_KILL, 8),
        Step(REDIS_RESTART, 16, down_s=4),
        Step(CLIENT_KILL, 28),
        Step(S3_OUTAGE, 36, down_s=8),
        Step(WORKER_KILL, 52),
        Step(SCALE_IN, 85),
        Step(REDIS_RESTART, 100, down_s=14),
    ),
)

FULL = Plan(
    name="full",
    target_jobs=2100,
    rate=3.0,
    burst=260,
    min_backlog=100,
    workers=2,
    drain_s=300,
    cancel_upload=True,
    batch_lines=200,
    steps=(
        Step(POOL_KILL, 20),
        Step(REDIS_RESTART, 45, down_s=4),
        Step(CLIENT_KILL, 75),
        Step(WORKER_KILL, 100),
        Step(POOL_KILL, 160),
        Step(S3_OUTAGE, 185, down_s=12),
        Step(REDIS_RESTART, 220, down_s=16),
        Step(WORKER_KILL, 260),
        Step(POOL_KILL, 320),
        Step(SCALE_IN, 345),
        Step(REDIS_RESTART, 385, down_s=5),
        Step(CLIENT_KILL, 415),
        Step(WORKER_KILL, 440),
        Step(POOL_KILL, 500),
        Step(REDIS_RESTART, 525, down_s=3),
        Step(POOL_KILL, 550),
    ),
)
