"""One line per fault promise of RELIABILITY.md: what this run showed of it, with the figure."""

from __future__ import annotations

import collections

from devtools.chaos import plan as p
from devtools.chaos.mix import OVERTIME, POISON
from devtools.chaos.soak import Outcome
from devtools.chaos.summary import bounded, cancels, measured_of
from devtools.chaos.text import plural, seconds

ELSEWHERE = (
    "**12–22** (bad input, security, deploy) are not faults of a running stack: tests/api/, "
    "tests/integration/test_tenancy.py, tests/browser/ and tests/k8s/ show them."
)


def _tagged(o: Outcome, tag: str) -> list[str]:
    """The accepted jobs of one tag."""
    return [s.job_id for s in o.tally.accepted if s.tag == tag]


def _ends(o: Outcome, job_ids: list[str]) -> str:
    """The jobs' outcomes, counted, in words."""
    ends = collections.Counter(o.views[j].outcome for j in job_ids if j in o.views)
    return ", ".join(f"{n} {k}" for k, n in sorted(ends.items())) or "none"


def _attempts(o: Outcome, job_ids: list[str]) -> list[int]:
    """The jobs' final attempts."""
    return [r.attempts for j in job_ids if j in o.views and (r := o.views[j].record)]


def _kills(o: Outcome, kind: str) -> tuple[int, list[str]]:
    """How many faults of a kind ran, and every job they struck."""
    faults = measured_of(o, kind)
    return len(faults), [j for m in faults for j in m.fault.victims]


def _one(o: Outcome, tag: str) -> str:
    """How the first job of a tag ended, after how many attempts."""
    jobs = _tagged(o, tag)
    view = o.views.get(jobs[0]) if jobs else None
    if view is None or view.record is None:
        return "not submitted"
    return f"{view.outcome} after {plural(view.record.attempts, 'attempt')}"


def _kept(o: Outcome, job_ids: list[str] | set[str]) -> int:
    """How many of the jobs hold objects their result does not list (or any, unless they succeeded)."""
    stored: dict[str, set[str]] = collections.defaultdict(set)
    for key in o.objects:
        stored[key.split("/")[1] if key.count("/") == 2 else ""].add(key)
    return sum(1 for j in job_ids if j in o.views and stored[j] - o.views[j].files)


def _unchanged(o: Outcome, kind: str, *, within_lease: bool) -> str:
    """Of the jobs running when faults of a kind struck, how many ended with the attempts they had."""
    faults = [
        m.fault for m in measured_of(o, kind) if (m.fault.until - m.fault.at <= p.LEASE_S) == within_lease
    ]
    struck = [(j, a) for f in faults for j, a in f.victims.items()]
    same = sum(1 for j, a in struck if _attempts(o, [j]) == [a])
    return f"{same} of the {plural(len(struck), 'job')} running then ended with their attempts unchanged"


def _secs(o: Outcome, kind: str) -> str:
    """The bounded seconds of a kind's faults, in words."""
    return ", ".join(seconds(s) for s in bounded(o, kind)) or "none measured"


def lines(o: Outcome) -> list[str]:
    """Promises 1 to 11 (with 7b), each with its figure from this run, then where the others are shown."""
    return [*_kills_and_limits(o), *_outages_and_cancels(o), ELSEWHERE]


def _kills_and_limits(o: Outcome) -> list[str]:
    """Promises 1 to 6."""
    f, logs = o.findings, o.logs
    pools, pool_jobs = _kills(o, p.POOL_KILL)
    workers, _ = _kills(o, p.WORKER_KILL)
    _, termed = _kills(o, p.SCALE_IN)
    succeeded = collections.Counter(v.status for v in o.views.values())["succeeded"]
    return [
        f"**1.** Pool process SIGKILLed mid-job: {plural(pools, 'kill')}; "
        f"the {plural(len(pool_jobs), 'job')} held ended "
        f"{_ends(o, pool_jobs)} with attempts {_attempts(o, pool_jobs)}; "
        f"{_kept(o, pool_jobs)} of them kept an object their result does not list.",
        f"**2.** A job that kills its worker every time: the poison job ended {_one(o, POISON)} "
        f"(it took down {plural(o.crashes, 'worker')}, each replaced as Kubernetes restarts a container); "
        f"{succeeded} other jobs succeeded around it.",
        f"**3.** Whole worker SIGKILLed: {plural(workers, 'kill')}; its jobs ran again after "
        f"{_secs(o, p.WORKER_KILL)} "
        "(worst job per kill; about 60 s promised).",
        f"**4.** SIGTERM (scale-in): {_ends(o, termed)} of the {plural(len(termed), 'job')} it held; "
        + "; ".join(m.figure for m in measured_of(o, p.SCALE_IN))
        + f"; {len(f.duplicate_terminal)} duplicate terminal transitions.",
        f"**5.** Past the time limit ({p.TIME_LIMIT_S} s): the overtime job ended {_one(o, OVERTIME)}; "
        "its worker went on.",
        f"**6.** Two executions of one job: {len(f.duplicate_terminal)} duplicate terminal transitions; "
        f"{logs['late results refused (compare-and-set)']} late results refused by the compare-and-set, "
        f"{logs['deliveries with no job to run']} deliveries found no job to run (a redelivered permit "
        "whose job the reaper or another permit had already started).",
    ]


def _outages_and_cancels(o: Outcome) -> list[str]:
    """Promises 7 to 11."""
    f, c = o.findings, cancels(o)
    taken = {x.job_id for x in o.tally.cancels if x.code == 200 and x.status == "canceled"}
    ended = sum(1 for j in taken if j in o.views and o.views[j].status == "canceled")
    kept = _kept(o, taken)
    waited = [
        j for j in taken if j in o.views and [s.status for s in o.views[j].statuses][-2:-1] == ["queued"]
    ]
    never_ran = sum(1 for j in waited if not o.views[j].first("running", 0))
    s3 = "; ".join(m.figure for m in measured_of(o, p.S3_OUTAGE)) or "no outage in this run"
    return [
        f"**7.** Redis restarts (AOF): workers consumed again {_secs(o, p.REDIS_RESTART)} "
        f"after Redis returned; through restarts within the lease "
        f"{_unchanged(o, p.REDIS_RESTART, within_lease=True)}; through the longer one "
        f"{_unchanged(o, p.REDIS_RESTART, within_lease=False)} (a rerun is allowed); {len(f.lost)} lost.",
        f"**7b.** Every client connection dropped (CLIENT KILL normal + pubsub): a job ran "
        f"{_secs(o, p.CLIENT_KILL)} later, {_unchanged(o, p.CLIENT_KILL, within_lease=True)}, every later "
        "job finished "
        "(the liveness probe's half is tests/worker/test_liveness.py).",
        "**8.** Redis down → 503 problem+json at once, /health 200, /ready 503: "
        "tests/integration/test_reliability.py::test_redis_outage_answers_503_fast_then_recovers; here "
        f"submissions during outages were refused as {dict(o.tally.refused) or 'nothing'} (no hang).",
        f"**9.** Object store down during uploads: {s3}; {len(f.missing)} half-written or missing objects.",
        "**10.** Out of device memory: not a fault this pipeline can have (no device memory); "
        "tests/worker/test_runner.py::test_out_of_memory_splits_the_batch_and_retries and "
        "::test_a_job_too_big_even_alone_fails_with_resource_exhausted show it.",
        f"**11.** Cancels: {c['taken']} taken ({c['queued']} waiting, {c['running']} running); "
        f"{ended} of them ended canceled and {kept} kept an object (see the findings); {never_ran} of the "
        f"{len(waited)} canceled while waiting had never run.",
    ]
