"""A run's figures and the rules they are judged by: the lines of the table and of docs/CHAOS.md."""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass

from devtools.chaos import plan as p
from devtools.chaos.batch import INVALID, violations
from devtools.chaos.figures import Measured
from devtools.chaos.logs import HELD_S
from devtools.chaos.soak import Outcome
from devtools.chaos.text import seconds

DETECTION_MAX_S = 60.0  # RELIABILITY.md promise 3: another worker runs the job within about 60 s
RESUME_MAX_S = 3.0  # issue 9: workers consume again within 3 s of Redis returning
FULL_CANCELS = 50


@dataclass(frozen=True)
class Line:
    """One figure; `ok` says whether it keeps its rule (None: a figure without one)."""

    name: str
    value: str
    ok: bool | None = None
    rule: str = ""


def bounded(o: Outcome, kind: str) -> list[float]:
    """The bounded seconds of each fault of a kind (its worst victim's)."""
    return [max(m.seconds) for m in o.measured if m.fault.kind == kind and m.seconds]


def probed(o: Outcome, kind: str) -> list[float]:
    """Each fault's probe wait (a job submitted as the fault ended, until it ran; inf: it never did)."""
    return [math.inf if m.probe_s is None else m.probe_s for m in o.measured if m.fault.kind == kind]


def outcomes(o: Outcome) -> collections.Counter[str]:
    """Accepted jobs by how they ended."""
    accepted = {s.job_id for s in o.tally.accepted}
    return collections.Counter(v.outcome for j, v in o.views.items() if j in accepted)


def cancels(o: Outcome) -> dict[str, int]:
    """Cancels sent, taken, and whether the job was waiting or running when taken (from its events)."""
    taken = [c for c in o.tally.cancels if c.code == 200 and c.status == "canceled"]
    before: collections.Counter[str] = collections.Counter()
    for c in taken:
        statuses = [s.status for s in o.views[c.job_id].statuses] if c.job_id in o.views else []
        before[statuses[-2] if len(statuses) > 1 else "?"] += 1
    late = sum(1 for c in o.tally.cancels if c.code == 409)
    return {
        "sent": len(o.tally.cancels),
        "taken": len(taken),
        "queued": before["queued"],
        "running": before["running"],
        "late": late,
    }


def _within(values: list[float], limit: float) -> Line:
    """Some seconds against a limit, as a line's value, verdict and rule."""
    shown = ", ".join(seconds(v) if v < math.inf else "never" for v in values) or "none measured"
    return Line("", shown, bool(values) and max(values) <= limit, f"each ≤ {limit:.0f} s")


def rules(o: Outcome) -> list[Line]:
    """The invariants and bounds, each with its verdict."""
    f = o.findings
    detect = _within(bounded(o, p.WORKER_KILL), DETECTION_MAX_S)
    resume = _within(bounded(o, p.REDIS_RESTART), RESUME_MAX_S)
    probe = _within(probed(o, p.REDIS_RESTART) + probed(o, p.CLIENT_KILL), RESUME_MAX_S)
    after_kill = _within(bounded(o, p.CLIENT_KILL), RESUME_MAX_S)
    backlogs = [m.fault.figures["backlog"] for m in o.measured if m.fault.kind == p.WORKER_KILL]
    return [
        Line("lost jobs", str(len(f.lost)), not f.lost, "0"),
        Line("duplicate terminal transitions", str(len(f.duplicate_terminal)), not f.duplicate_terminal, "0"),
        Line(
            "orphaned or foreign objects",
            str(len(f.orphans) + len(f.foreign)),
            not (f.orphans or f.foreign),
            "0",
        ),
        Line("listed objects missing or not whole", str(len(f.missing)), not f.missing, "0"),
        Line("records disagreeing with their events", str(len(f.mismatched)), not f.mismatched, "0"),
        Line("attempts grown across a transient fault", str(len(f.attempts_grew)), not f.attempts_grew, "0"),
        Line("outcomes no fault explains", str(len(f.unexpected)), not f.unexpected, "0"),
        Line("whole-worker kill → running again", detect.value, detect.ok, detect.rule),
        Line(
            "backlog at each whole-worker kill",
            ", ".join(f"{b:.0f}" for b in backlogs),
            min(backlogs, default=0) >= o.plan.min_backlog,
            f"≥ {o.plan.min_backlog}",
        ),
        Line("Redis back → a job running", resume.value, resume.ok, resume.rule),
        Line("CLIENT KILL → a job running", after_kill.value, after_kill.ok, after_kill.rule),
        Line("Redis back or CLIENT KILL → a job then submitted running", probe.value, probe.ok, probe.rule),
        Line("jobs a worker received and sat on", str(len(o.held)), not o.held, f"0 (idle > {HELD_S:.0f} s)"),
        _schedule(o),
        *_batch_and_usage(o),
    ]


def batch_violations(o: Outcome) -> list[str]:
    """What breaks the batch's rules (devtools/chaos/batch.py)."""
    return violations(o.batch, {j: v.status for j, v in o.views.items()})


def _batch_and_usage(o: Outcome) -> list[Line]:
    """The batch's rule and the usage totals' rule."""
    broken, unequal = batch_violations(o), o.usage.violations()
    lines = len(o.batch.run.custom_ids)
    return [
        Line(
            "batch lines each once in its output or error file",
            f"{lines - len(broken)} of {lines} held" if broken else f"{lines} lines, each once",
            not broken,
            f"each once; {INVALID} in the error file; request_counts = the files",
        ),
        Line(
            "usage totals = the jobs' usage summed",
            f"{len(unequal)} differences" if unequal else "equal, per type, per key, in /metrics",
            not unequal,
            "jobs and tokens equal; device-s within 1e-6",
        ),
    ]


def batch_figure(o: Outcome) -> str:
    """The batch in one line: where its lines went, its counts, how long it ran, what struck meanwhile."""
    end, counts = o.batch, o.batch.counts
    ended_at = float(end.batch.get("completed_at") or end.seen_at)
    struck = collections.Counter(m.fault.kind for m in o.measured if end.run.at <= m.fault.at <= ended_at)
    jobs = [v for v in o.views.values() if v.record and v.record.batch_id == end.run.batch_id]
    attempts = collections.Counter(v.record.attempts for v in jobs if v.record)
    return (
        f"{end.batch.get('status', 'not ended')}: {len(end.output)} lines in the output file, "
        f"{len(end.errors)} in the error file; request_counts {counts}; ran {ended_at - end.run.at:.0f} s "
        f"through {', '.join(f'{n}× {k}' for k, n in sorted(struck.items())) or 'no fault'}; "
        f"its {len(jobs)} jobs' attempts {dict(sorted(attempts.items()))}"
    )


def _schedule(o: Outcome) -> Line:
    """Whether every planned fault ran, with enough jobs and cancels."""
    done = collections.Counter(m.fault.kind for m in o.measured)
    planned = collections.Counter(s.kind for s in o.plan.steps)
    taken, accepted = cancels(o)["taken"], len(o.tally.accepted)
    wanted_cancels = FULL_CANCELS if o.plan.name == "full" else 1
    ok = done == planned and taken >= wanted_cancels and accepted >= o.plan.target_jobs
    value = (
        f"{sum(done.values())} faults of {sum(planned.values())} planned, {accepted} jobs, {taken} cancels"
    )
    return Line(
        "schedule executed",
        value,
        ok,
        f"all planned, ≥ {o.plan.target_jobs} jobs, ≥ {wanted_cancels} cancels",
    )


def figures(o: Outcome) -> list[Line]:
    """The counts without a rule of their own."""
    ends = outcomes(o)
    failed = {k.split("/")[1]: n for k, n in sorted(ends.items()) if k.startswith("failed/")}
    c = cancels(o)
    attempts = collections.Counter(v.record.attempts for v in o.views.values() if v.record)
    return [
        Line("jobs accepted (202)", str(len(o.tally.accepted))),
        Line(
            "submissions refused",
            ", ".join(f"{n}× {k}" for k, n in sorted(o.tally.refused.items())) or "none",
        ),
        Line("stored without a 202", str(len(o.findings.unacknowledged))),
        Line("succeeded", str(ends["succeeded"])),
        Line("failed, by code", ", ".join(f"{k} {n}" for k, n in failed.items()) or "none"),
        Line("canceled", str(ends["canceled"])),
        Line(
            "cancels sent / taken",
            f"{c['sent']} / {c['taken']} ({c['queued']} waiting, {c['running']} running; "
            f"{c['late']} answered 409)",
        ),
        Line("attempts (jobs)", ", ".join(f"{k}: {n}" for k, n in sorted(attempts.items()))),
        Line("result objects", str(len(o.objects))),
        Line("batch (/v1/batches, image lines)", batch_figure(o)),
        Line("usage, the jobs' summed", o.usage.figure()),
        *[Line(name, str(n)) for name, n in o.logs.items()],
    ]


def holds(o: Outcome) -> bool:
    """True when every rule holds."""
    return all(line.ok for line in rules(o))


def fault_rows(o: Outcome) -> list[tuple[str, str, str, str]]:
    """Per fault as executed: seconds after the load began, kind, what it hit, what followed."""
    return [(f"{m.fault.at - o.started:.1f}", m.fault.kind, m.fault.detail, m.figure) for m in o.measured]


def measured_of(o: Outcome, kind: str) -> list[Measured]:
    """The measured faults of one kind, in order."""
    return [m for m in o.measured if m.fault.kind == kind]
