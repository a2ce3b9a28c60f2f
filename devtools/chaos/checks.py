"""The invariants, job by job: one terminal transition, no loss, exactly the listed objects, attempts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from devtools.chaos import plan as p
from devtools.chaos.audit import JobView
from devtools.chaos.driver import CancelTry, Tally
from devtools.chaos.faults import PROBE, Fault
from devtools.chaos.mix import BATCH, CANCEL_QUEUED, CANCEL_RUNNING, EXPECTED, POISON

RESULT_KEY = re.compile(r"^results/([0-9a-f-]{36})/[^/]+$")
STORAGE_GRACE_S = 20.0  # a job may fail storage_unavailable this long after S3 returns (retries in flight)


@dataclass
class Findings:
    """Every job or object that breaks a rule, by rule; the first six must stay empty."""

    lost: list[str] = field(default_factory=list)  # accepted, never finished (or its record is gone)
    duplicate_terminal: list[str] = field(default_factory=list)  # two terminal events, or one not last
    orphans: list[str] = field(default_factory=list)  # objects of a failed or canceled job, or unlisted
    foreign: list[str] = field(default_factory=list)  # objects outside results/{a known job}/
    missing: list[str] = field(default_factory=list)  # listed objects the bucket lacks, or not whole PNGs
    mismatched: list[str] = field(default_factory=list)  # a record that disagrees with its events
    attempts_grew: list[str] = field(default_factory=list)  # rerun after a transient fault, no kill
    unexpected: list[str] = field(default_factory=list)  # an outcome its purpose does not allow
    unacknowledged: list[str] = field(default_factory=list)  # stored, but the load got no 202

    @property
    def broken(self) -> int:
        """How many findings break an invariant (the first six rules)."""
        return sum(len(getattr(self, f.name)) for f in fields(self)[:6])


def check(
    views: dict[str, JobView],
    objects: dict[str, bool],
    tally: Tally,
    faults: list[Fault],
    crashed: Iterable[str] = (),
) -> Findings:
    """Apply every rule to every job and object; `crashed`: jobs a poison job's crash took down too."""
    found = Findings()
    tags = {s.job_id: s.tag for s in tally.accepted}
    tags |= {j: BATCH for j, v in views.items() if v.record and v.record.batch_id}  # made by the runner
    found.unacknowledged = sorted(set(views) - set(tags))
    cancels: dict[str, list[CancelTry]] = {}
    for c in tally.cancels:
        cancels.setdefault(c.job_id, []).append(c)
    killed = {job for f in faults if f.kills for job in f.victims} | set(crashed)
    for job_id, view in views.items():
        _check_job(found, view, "" if job_id in tags else " (stored without a 202)")
        if job_id not in tags:
            continue
        expected = _expected(tags[job_id], cancels.get(job_id, []))
        if view.outcome not in expected and not _excused(view, tags[job_id], killed, faults):
            found.unexpected.append(f"{job_id} ({tags[job_id]}): {view.outcome}, expected {sorted(expected)}")
    _check_objects(found, views, objects)
    found.attempts_grew = _attempts_grew(views, faults, killed)
    return found


def _expected(tag: str, cancels: list[CancelTry]) -> set[str]:
    """The outcomes a job may end with: canceled once a cancel was taken, else what its tag is for."""
    if any(c.code == 200 and c.status == "canceled" for c in cancels):
        return {"canceled"}
    expected = {"succeeded"} if tag in (CANCEL_QUEUED, CANCEL_RUNNING, PROBE) else {EXPECTED[tag]}
    if any(c.code == 0 for c in cancels):  # no answer: the cancel may have been taken
        expected.add("canceled")
    return expected


def _check_job(found: Findings, view: JobView, note: str) -> None:
    """Lost, duplicate terminal transitions, or a record that disagrees with its events."""
    terminal = view.terminal_events
    if view.record is None or not view.record.status.terminal:
        found.lost.append(f"{view.job_id}: {view.status}{note}")
        return
    if len(terminal) != 1 or view.statuses[-1] != terminal[0]:
        found.duplicate_terminal.append(f"{view.job_id}: {[s.status for s in view.statuses]}")
        return
    runs = [s for s in view.statuses if s.status == "running"]
    record = view.record
    if terminal[0].status != record.status or len(runs) != record.attempts:
        found.mismatched.append(f"{view.job_id}: {record.status}/{record.attempts}, events {view.statuses}")


def _excused(view: JobView, tag: str, killed: set[str], faults: list[Fault]) -> bool:
    """Failures a fault explains: lost on every attempt by kills, or S3 away when the job ended."""
    outcome = view.outcome
    if outcome == "failed/worker_lost":
        return tag == POISON or view.job_id in killed
    if outcome == "failed/storage_unavailable":
        end = view.terminal_events[0].at if view.terminal_events else 0.0
        outages = [f for f in faults if f.kind == p.S3_OUTAGE]
        return any(f.at <= end <= f.until + STORAGE_GRACE_S for f in outages)
    return False


def _check_objects(found: Findings, views: dict[str, JobView], objects: dict[str, bool]) -> None:
    """Objects no succeeded job lists (orphans, foreign keys), listed ones missing or not whole."""
    for key, whole in sorted(objects.items()):
        match = RESULT_KEY.match(key)
        view = views.get(match.group(1)) if match else None
        if view is None:
            found.foreign.append(key)
        elif view.status != "succeeded" or key not in view.files:
            found.orphans.append(f"{key} ({view.outcome}, lists {sorted(view.files)})")
        elif not whole:
            found.missing.append(f"{key}: not a whole PNG")
    for view in views.values():
        if view.status == "succeeded":
            found.missing += [f"{key}: listed, not stored" for key in sorted(view.files - set(objects))]


def _attempts_grew(views: dict[str, JobView], faults: list[Fault], killed: set[str]) -> list[str]:
    """Jobs running through a transient fault (no kill; a Redis outage within the lease) that ran again."""
    grew = []
    for fault in faults:
        if fault.kills or (fault.kind == p.REDIS_RESTART and fault.until - fault.at > p.LEASE_S):
            continue
        for job_id, then in fault.victims.items():
            record = views[job_id].record if job_id in views else None
            if job_id not in killed and record is not None and record.attempts > then:
                grew.append(f"{job_id}: attempts {then} -> {record.attempts} across the {fault.kind}")
    return grew
