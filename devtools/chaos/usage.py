"""After the soak: each job's `usage` summed must equal what GET /v1/usage and /metrics count.

A job's usage is written in the same atomic step as its end, and added to the hourly totals and the
all-time counters there (shared/store/lua/finish.lua), so however the faults killed, reaped or
handed back its worker, the jobs' usage summed equals the totals: the same jobs count, the same tokens,
images and pixel steps, and the same device seconds up to float rounding. Compared for the whole run,
per job type and per key (the load's and the batch's), through the API only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devtools.chaos.access import Access

MEASURES = ("jobs", "device_s", "prompt_tokens", "completion_tokens", "images", "pixel_steps")
RELATIVE = 1e-6  # device seconds may differ by float rounding (summed in another order), no more
ALL = "all"

Totals = dict[str, float]


@dataclass
class UsageCheck:
    """The jobs' usage summed and the totals the API and /metrics report, by group ("all", "type image")."""

    window: tuple[str, str]  # the `from` and `to` asked of GET /v1/usage
    summed: dict[str, Totals] = field(default_factory=dict)
    reported: dict[str, Totals] = field(default_factory=dict)  # GET /v1/usage
    metrics: dict[str, Totals] = field(default_factory=dict)  # llmb_usage_*_total by type
    jobs_read: int = 0
    unread: list[str] = field(default_factory=list)  # jobs GET /v1/jobs/{id} did not show

    def violations(self) -> list[str]:
        """Every group and measure where the totals and the jobs' sum differ, and jobs not read."""
        found = list(self.unread)
        found += _differences(
            "GET /v1/usage", self.summed, self.reported, self.summed.keys() | self.reported.keys()
        )
        types = {g for g in self.summed.keys() | self.metrics.keys() if g.startswith("type ")}
        found += _differences("/metrics", self.summed, self.metrics, types | {ALL})
        return found

    def figure(self) -> str:
        """The run's totals, summed over its jobs, in one line."""
        total = self.summed.get(ALL, {})
        shown = ", ".join(f"{_shown(m, total.get(m, 0.0))} {m}" for m in MEASURES if total.get(m))
        read = f"over the {self.jobs_read} jobs read; GET /v1/usage from {self.window[0]} to {self.window[1]}"
        return f"{shown or 'none'} {read}"


def _same(measure: str, a: float, b: float) -> bool:
    """Equal counts; device seconds within RELATIVE of each other."""
    if measure == "device_s":
        return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-9)
    return round(a) == round(b)


def _shown(measure: str, value: float) -> str:
    """A measure's value as the report writes it."""
    return f"{value:.6f}" if measure == "device_s" else f"{value:.0f}"


def _differences(
    source: str, summed: dict[str, Totals], told: dict[str, Totals], groups: Iterable[str]
) -> list[str]:
    """Each (group, measure) where `told` differs from the jobs' sum."""
    found = []
    for group in sorted(groups):
        mine, theirs = summed.get(group, {}), told.get(group, {})
        for m in MEASURES:
            a, b = mine.get(m, 0.0), theirs.get(m, 0.0)
            if not _same(m, a, b):
                found.append(f"{group} {m}: jobs sum to {_shown(m, a)}, {source} says {_shown(m, b)}")
    return found


def _add(totals: dict[str, Totals], group: str, used: Totals) -> None:
    """Add one job's usage (and the job) to a group's totals."""
    into = totals.setdefault(group, {})
    for measure, amount in {"jobs": 1.0, **used}.items():
        into[measure] = into.get(measure, 0.0) + float(amount)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_usage(
    api_url: str, access: Access, job_ids: Iterable[str], since: float, until: float
) -> UsageCheck:
    """Read every job's usage, then the run's totals from GET /v1/usage and /metrics, and compare."""
    found = UsageCheck((_iso(since), _iso(until)))
    keys = {False: access.load.key_id, True: access.batch.key_id}
    with httpx.Client(base_url=api_url, timeout=10, headers=access.load.headers) as http:
        for job_id in sorted(job_ids):
            answer = http.get(f"/v1/jobs/{job_id}")
            if answer.status_code != 200:
                found.unread.append(f"job {job_id}: GET answered {answer.status_code}")
                continue
            found.jobs_read += 1
            job = answer.json()
            if job.get("usage") is not None:
                for group in (ALL, f"type {job['type']}", f"key {keys[bool(job.get('batch_id'))]}"):
                    _add(found.summed, group, job["usage"])
        found.reported = _reported(http, found.window)
        found.metrics = _metrics(http.get("/metrics").text)
    return found


def _reported(http: httpx.Client, window: tuple[str, str]) -> dict[str, Totals]:
    """GET /v1/usage over the window, by type and by key, as groups (the tenant's, the key's own)."""
    groups: dict[str, Totals] = {}
    for group_by in ("type", "key"):
        answer = http.get("/v1/usage", params={"from": window[0], "to": window[1], "group_by": group_by})
        answer.raise_for_status()
        for row in answer.json()["groups"]:
            name = f"type {row['type']}" if group_by == "type" else f"key {row['key_id']}"
            groups[name] = {m: float(row[m]) for m in MEASURES}
    groups[ALL] = {m: sum(g[m] for n, g in groups.items() if n.startswith("type ")) for m in MEASURES}
    return groups


def _metrics(text: str) -> dict[str, Totals]:
    """The all-time llmb_usage_*_total counters by type (the stack's Redis is the run's own)."""
    groups: dict[str, Totals] = {}
    names = {"device_seconds": "device_s"}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("llmb_usage_"):
            continue
        measure = family.name.removeprefix("llmb_usage_").removesuffix("_total")
        measure = names.get(measure, measure)
        for sample in family.samples:
            if sample.name.endswith("_total"):
                into = groups.setdefault(f"type {sample.labels['type']}", {})
                into[measure] = into.get(measure, 0.0) + sample.value
    groups[ALL] = {m: sum(g.get(m, 0.0) for g in groups.values()) for m in MEASURES}
    return groups
