"""What the workers' logs say: how often they met each fault, and deliveries a worker sat on."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

# Lines the workers log, counted over the run: what the service did about the faults.
LOG_LINES = {
    "late results refused (compare-and-set)": "result dropped, job is",
    "hand-backs refused (job moved on)": "already moved on",
    "deliveries with no job to run": "nothing to do (none waits",
    "jobs freed by the reaper": "lost its worker; freed from queue",
    "writes retried through a Redis outage": "Redis does not answer, trying again",
    "uploads retried": "failed, try",
    "batches split after a failure": "retrying it in halves",
}

HELD_S = 3.0  # a delivered permit a worker has not used after this long (prefetch 1 a thread or process)
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
_RECEIVED = re.compile(r"Task llmb\.run_job\[([0-9a-f-]{36})\] received")
# The delivery's first line of its own: the job it runs (or that none waits), or Celery's end of it.
_STARTED = re.compile(
    r"\] (?:worker\.delivery: (?:delivery of )?job |celery\.app\.trace: Task llmb\.run_job\[)([0-9a-f-]{36})"
)


def log_counts(logs: Path) -> dict[str, int]:
    """How often each line of LOG_LINES appears in the workers' logs."""
    text = "".join(f.read_text(errors="replace") for f in sorted(logs.glob("worker-*.log*")))
    return {name: text.count(needle) for name, needle in LOG_LINES.items()}


def held_deliveries(logs: Path, outages: list[tuple[float, float]]) -> list[str]:
    """Jobs a worker received and did not start within HELD_S while it went on logging (not killed)."""
    # With late acks and a prefetch of one per pool process a worker receives a job only for a free
    # process, so a received job starts within milliseconds; one that waits is a stalled consumer.
    # Jobs received during `outages` (epoch spans: Redis down, whose claim waits; S3 down, whose
    # uploads' retries may hold every thread) are left out.
    found = []
    for log in sorted(logs.glob("worker-*.log")):
        waiting: dict[str, float] = {}
        for line in log.read_text(errors="replace").splitlines():
            stamp = _STAMP.match(line)
            if stamp is None:
                continue
            now = datetime.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            for job_id, since in list(waiting.items()):
                if now - since > HELD_S:
                    found.append(
                        f"{log.stem} received job {job_id} at {_clock(since)}; idle still at {_clock(now)}"
                    )
                    del waiting[job_id]
            if received := _RECEIVED.search(line):
                if not any(a <= now <= b for a, b in outages):
                    waiting.setdefault(received.group(1), now)
            elif started := _STARTED.search(line):
                waiting.pop(started.group(1), None)
    return found


def _clock(epoch: float) -> str:
    """An epoch as a wall-clock time with milliseconds."""
    return datetime.datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]
