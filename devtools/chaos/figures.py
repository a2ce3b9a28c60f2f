"""What each fault did, measured from the jobs' status events (Redis stream ids are Redis's clock)."""

from __future__ import annotations

import bisect
import collections
from dataclasses import dataclass, field

from devtools.chaos import plan as p
from devtools.chaos.audit import JobView
from devtools.chaos.faults import Fault
from devtools.chaos.text import plural, seconds

UPLOAD_S = 5.0  # an upload's retries (LLMB_STORAGE_TRIES=3, backoff 1 s then 2 s) end within this


@dataclass
class Measured:
    """A fault with its outcome in one line, and the seconds its promise bounds (detection, resume)."""

    fault: Fault
    figure: str
    seconds: list[float] = field(default_factory=list)
    probe_s: float | None = None  # after a Redis restart or CLIENT KILL: the probe job's wait to run


def _span(values: list[float]) -> str:
    """The lowest and highest of some seconds, as one figure."""
    if not values:
        return "n/a"
    low, high = min(values), max(values)
    return seconds(high) if high - low < 0.05 else f"{seconds(low)[:-2]}–{seconds(high)}"


class Timeline:
    """Every job's status events, to ask when something first happened after a moment."""

    def __init__(self, views: dict[str, JobView]) -> None:
        self.views = views
        self.running = sorted(s.at for v in views.values() for s in v.statuses if s.status == "running")

    def first_running(self, after: float) -> float | None:
        """Seconds from `after` to the first `running` event of any job written after it."""
        i = bisect.bisect_right(self.running, after)
        return self.running[i] - after if i < len(self.running) else None

    def next_of(self, job_id: str, status: str, after: float) -> float | None:
        """Seconds from `after` to the job's first `status` event after it."""
        found = self.views[job_id].first(status, after) if job_id in self.views else None
        return None if found is None else found.at - after

    def waiting_at(self, moment: float) -> int:
        """How many jobs were queued at `moment` (their last status event by then says so)."""
        count = 0
        for view in self.views.values():
            last = [s.status for s in view.statuses if s.at <= moment][-1:]
            count += last == ["queued"]
        return count

    def ended(self, job_ids: list[str]) -> collections.Counter[str]:
        """The jobs' outcomes, counted."""
        return collections.Counter(self.views[j].outcome for j in job_ids if j in self.views)

    def attempts(self, job_ids: list[str]) -> list[int]:
        """The jobs' final attempts."""
        return [v.record.attempts for j in job_ids if (v := self.views.get(j)) and v.record]


def measure(fault: Fault, tl: Timeline) -> Measured:
    """The figure a fault's promise is judged by."""
    return {
        p.POOL_KILL: _pool_kill,
        p.WORKER_KILL: _worker_kill,
        p.SCALE_IN: _scale_in,
        p.REDIS_RESTART: _redis_restart,
        p.S3_OUTAGE: _s3_outage,
        p.CLIENT_KILL: _client_kill,
    }[fault.kind](fault, tl)


def _times(fault: Fault, tl: Timeline, status: str) -> list[float]:
    """Seconds from the fault to each victim's next event into `status`."""
    return [t for j in fault.victims if (t := tl.next_of(j, status, fault.at)) is not None]


def _outcomes(tl: Timeline, job_ids: list[str]) -> str:
    """The jobs' outcomes, counted, in words."""
    return ", ".join(f"{n} {o}" for o, n in sorted(tl.ended(job_ids).items()))


def _pool_kill(fault: Fault, tl: Timeline) -> Measured:
    """The killed process's jobs: when they ran again, how they ended."""
    jobs = list(fault.victims)
    again = _span(_times(fault, tl, "running"))
    figure = f"running again after {again}; ended {_outcomes(tl, jobs)}, attempts {tl.attempts(jobs)}"
    return Measured(fault, figure)


def _worker_kill(fault: Fault, tl: Timeline) -> Measured:
    """The dead worker's jobs: when the reaper freed them and another worker ran them."""
    detection = _times(fault, tl, "running")
    freed = _span(_times(fault, tl, "queued"))
    then = tl.waiting_at(fault.at + max(detection, default=0.0) - 0.001)
    figure = (
        f"{plural(len(fault.victims), 'job')} freed after {freed}, running again after {_span(detection)} "
        f"with {then} waiting; ended {_outcomes(tl, list(fault.victims))}"
    )
    return Measured(fault, figure, detection)


def _scale_in(fault: Fault, tl: Timeline) -> Measured:
    """The stopping worker's jobs: when they were handed back and ran again."""
    handed = _span(_times(fault, tl, "queued"))
    again = _span(_times(fault, tl, "running"))
    figure = (
        f"{plural(len(fault.victims), 'job')} handed back within {handed}, running again after {again}; "
        f"ended {_outcomes(tl, list(fault.victims))}"
    )
    return Measured(fault, figure)


def _unchanged(fault: Fault, tl: Timeline) -> str:
    """How many jobs running when the fault struck ended with the attempts they had then."""
    same = sum(1 for j, a in fault.victims.items() if tl.attempts([j]) == [a])
    return f"{same} of {plural(len(fault.victims), 'running job')} ended with attempts unchanged"


def _resumed(fault: Fault, tl: Timeline, since: float) -> Measured:
    """When a job (any, then the probe) ran after `since`, and the attempts of those struck."""
    first = tl.first_running(since)
    probe = tl.next_of(fault.probe, "running", since) if fault.probe else None
    found = [max(0.0, first)] if first is not None else []
    probe_text = seconds(probe) if probe is not None else "never"
    figure = (
        f"first job running {_span(found)} after, a job submitted then {probe_text}; {_unchanged(fault, tl)}"
    )
    return Measured(fault, figure, found, probe)


def _redis_restart(fault: Fault, tl: Timeline) -> Measured:
    """Consumption after Redis returned."""
    return _resumed(fault, tl, fault.until)


def _client_kill(fault: Fault, tl: Timeline) -> Measured:
    """Consumption after every client connection was dropped."""
    return _resumed(fault, tl, fault.at)


def _s3_outage(fault: Fault, tl: Timeline) -> Measured:
    """How the image jobs ending during the outage (or just after) ended."""
    window = [
        v.job_id
        for v in tl.views.values()
        if v.files or v.outcome == "failed/storage_unavailable"
        if v.terminal_events and fault.at <= v.terminal_events[0].at <= fault.until + UPLOAD_S
    ]
    figure = (
        f"image jobs ending then or within {UPLOAD_S:.0f} s: {_outcomes(tl, window)}; {_unchanged(fault, tl)}"
    )
    return Measured(fault, figure)
