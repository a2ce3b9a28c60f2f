"""The soak's batch: one /v1/batches batch of paced image lines (and one invalid line) submitted as the
load starts, followed to its end after the load, its output and error files read back and checked.

Every line must appear exactly once across the two files, the invalid one in the error file with its
400, each line in the file its job's outcome says (output: succeeded), and the batch's request_counts
must agree with the files.
"""

from __future__ import annotations

import collections
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from devtools.chaos.mix import SIZES
from devtools.stack.process import wait_until as poll

ENDPOINT = "/v1/images/generations"
ENDED = ("completed", "failed", "expired", "cancelled")
INVALID = "invalid-size"  # the custom_id of the line the route refuses (400, param size)
LINE_PROMPT, LINE_STEPS = "pace:250", 4  # a line's job runs about a second
POLL_S = 0.5
FILES = "files/"  # where the object store keeps uploaded and made files (shared/store/files.py)


@dataclass(frozen=True)
class BatchRun:
    """A submitted batch: its id, its input file's, the custom_ids sent (in order), when (epoch)."""

    batch_id: str
    input_file_id: str
    custom_ids: tuple[str, ...]
    at: float


@dataclass
class BatchEnd:
    """The batch as it ended: its object, each file's lines by custom_id, when its end was seen (epoch)."""

    run: BatchRun
    batch: dict[str, Any]
    seen_at: float
    output: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the run's own (no end seen, a file unreadable)
    stored: set[str] = field(default_factory=set)  # the file objects in the bucket after the run

    @property
    def file_ids(self) -> set[str]:
        """The files the batch names: its input, output and error files."""
        named = (self.run.input_file_id, self.batch.get("output_file_id"), self.batch.get("error_file_id"))
        return {str(f) for f in named if f}

    @property
    def counts(self) -> dict[str, int]:
        """The batch's request_counts (total, completed, failed)."""
        return {k: int(v) for k, v in (self.batch.get("request_counts") or {}).items()}

    def job_ids(self, lines: list[dict[str, Any]]) -> list[str]:
        """The jobs (request_id) behind the lines of one file."""
        return [str(r["request_id"]) for x in lines if (r := x.get("response")) and r.get("request_id")]


def input_lines(count: int) -> list[dict[str, Any]]:
    """`count` image lines at the load's sizes, then one whose size the route refuses."""
    lines = []
    for i in range(count):
        width, height = SIZES[i % len(SIZES)]
        body = {"prompt": LINE_PROMPT, "size": f"{width}x{height}", "steps": LINE_STEPS}
        lines.append({"custom_id": f"line-{i:04d}", "method": "POST", "url": ENDPOINT, "body": body})
    bad = {"prompt": LINE_PROMPT, "size": "huge"}
    return [*lines, {"custom_id": INVALID, "method": "POST", "url": ENDPOINT, "body": bad}]


def _answered(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON of a 200 answer; RuntimeError naming `what` otherwise."""
    if response.status_code != 200:
        raise RuntimeError(f"{what} answered {response.status_code}: {response.text[:300]}")
    found: dict[str, Any] = response.json()
    return found


def submit(http: httpx.Client, count: int) -> BatchRun:
    """Upload the lines as a JSONL file and create the batch (RuntimeError when either is refused)."""
    lines = input_lines(count)
    data = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    upload = http.post(
        "/v1/files", files={"file": ("chaos.jsonl", data, "application/jsonl")}, data={"purpose": "batch"}
    )
    file_id = str(_answered(upload, "POST /v1/files")["id"])
    body = {"input_file_id": file_id, "endpoint": ENDPOINT, "completion_window": "24h"}
    made = _answered(http.post("/v1/batches", json=body), "POST /v1/batches")
    return BatchRun(str(made["id"]), file_id, tuple(x["custom_id"] for x in lines), time.time())


def _status(http: httpx.Client, batch_id: str) -> dict[str, Any] | None:
    """The batch object once it has ended (None before, or while the API does not answer)."""
    try:
        answer = http.get(f"/v1/batches/{batch_id}")
    except httpx.HTTPError:
        return None
    found: dict[str, Any] = answer.json() if answer.status_code == 200 else {}
    return found if found.get("status") in ENDED else None


def _lines(http: httpx.Client, file_id: str | None) -> list[dict[str, Any]]:
    """A batch file's lines (none when the batch has no such file)."""
    if not file_id:
        return []
    answer = http.get(f"/v1/files/{file_id}/content")
    if answer.status_code != 200:
        raise RuntimeError(f"GET /v1/files/{file_id}/content answered {answer.status_code}")
    return [json.loads(line) for line in answer.text.splitlines() if line.strip()]


def finish(http: httpx.Client, run: BatchRun, timeout: float) -> BatchEnd:
    """Wait (up to `timeout`) for the batch to end, then read its output and error files."""
    try:
        batch = poll(
            lambda: _status(http, run.batch_id), timeout=timeout, what="the batch's end", every=POLL_S
        )
    except TimeoutError:
        return BatchEnd(
            run, {}, time.time(), problems=[f"{run.batch_id} had not ended after {timeout:.0f} s"]
        )
    end = BatchEnd(run, batch, time.time())
    try:
        end.output = _lines(http, batch.get("output_file_id"))
        end.errors = _lines(http, batch.get("error_file_id"))
    except (RuntimeError, httpx.HTTPError, ValueError) as exc:
        end.problems.append(f"its files could not be read: {exc}")
    return end


def violations(end: BatchEnd, outcomes: dict[str, str]) -> list[str]:
    """What breaks the batch's rules; `outcomes` is each job's status by id (from the audit)."""
    found = list(end.problems)
    if not end.batch:
        return found
    if end.batch.get("status") != "completed":
        found.append(f"{end.run.batch_id} ended {end.batch.get('status')}, not completed")
    seen = collections.Counter(x.get("custom_id") for x in [*end.output, *end.errors])
    sent = set(end.run.custom_ids)
    found += [f"{c} is in the files {seen[c]} times" for c in end.run.custom_ids if seen[c] != 1]
    found += [f"{c!r} is in the files but was not sent" for c in seen if c not in sent]
    if INVALID not in {
        x.get("custom_id") for x in end.errors if (x.get("response") or {}).get("status_code") == 400
    }:
        found.append(f"{INVALID} is not in the error file with a 400")
    found += _counts(end)
    found += _by_outcome(end, outcomes)
    stored = {key.split("/")[2] for key in end.stored if key.count("/") == 3}
    if stored != end.file_ids:
        found.append(f"the bucket holds the files {sorted(stored)}, the batch names {sorted(end.file_ids)}")
    return found


def _counts(end: BatchEnd) -> list[str]:
    """Where request_counts disagree with the lines sent and the files."""
    counts, sent = end.counts, len(end.run.custom_ids)
    files = {"total": sent, "completed": len(end.output), "failed": len(end.errors)}
    return [
        f"request_counts {name} is {counts.get(name)}, the files say {want}"
        for name, want in files.items()
        if counts.get(name) != want
    ]


def _by_outcome(end: BatchEnd, outcomes: dict[str, str]) -> list[str]:
    """Lines in the wrong file for their job's outcome, and jobs behind two lines."""
    found = [
        f"output line of job {j}, which is {outcomes.get(j, 'missing')}"
        for j in end.job_ids(end.output)
        if outcomes.get(j) != "succeeded"
    ]
    found += [
        f"error line of job {j}, which succeeded"
        for j in end.job_ids(end.errors)
        if outcomes.get(j) == "succeeded"
    ]
    jobs = collections.Counter(end.job_ids(end.output) + end.job_ids(end.errors))
    return found + [f"job {j} answers {n} lines" for j, n in jobs.items() if n > 1]
