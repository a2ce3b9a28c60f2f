"""The batch runner's work on one batch per turn: validate its file, enqueue its lines a chunk at a time,
count its jobs' ends, stop it on a cancel or past its window, and finalize it (api/batches/finalize.py).

Lines are enqueued in chunks of CHUNK per turn, and a full queue or a key at its active-job cap only
pauses the batch until a later turn, so a 50,000-line file never floods the queue nor holds more than
its own bytes (at most LLMB_LIMITS__FILE_MAX_BYTES) in memory. A line's job id is derived from the
batch id and the line's number, so a runner that dies between enqueuing a line and recording it
finds the job again instead of making a second one.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.ctx import RequestContext

from api.batches.finalize import finalize
from api.batches.lines import ENDPOINTS, nonblank, parse, split
from api.budgets import job_budgets
from api.problems import openai_body
from api.services import Services
from shared.errors import (
    InvalidTransitionError,
    NotFoundError,
    QueueFullError,
    ServiceError,
    TenantQueueFullError,
    TooManyActiveJobsError,
)
from shared.inputs import JobInput
from shared.job_record import JobRecord, JobStatus
from shared.storage import ObjectStore
from shared.store.batches import ENDED, BatchRecord, BatchStore, error_entry
from shared.store.files import FileStore

CHUNK = 1000  # lines enqueued per batch per turn
TALLY_EVERY_S = (
    2.0  # while a batch's lines are still being enqueued, its counts are brought up to date this often
)
_NAMESPACE = uuid.UUID("6f1c2f8e-4d0a-4b8e-9a57-0b7c1c4e2a10")
_PENDING = frozenset({JobStatus.QUEUED.value, JobStatus.RUNNING.value})


def line_job_id(batch_id: str, index: int) -> str:
    """The job id of a batch's line `index` (0-based among its non-blank lines): the same every time."""
    return str(uuid.uuid5(_NAMESPACE, f"{batch_id}:{index}"))


@dataclass
class Tally:
    """How a batch's enqueued lines stand: succeeded, ended otherwise (refused lines too), not ended."""

    completed: int = 0
    failed: int = 0
    pending: int = 0


@dataclass
class Runner:
    """Moves every active batch on by one turn (see the module)."""

    app: Flask
    batches: BatchStore
    files: FileStore
    objects: ObjectStore
    base_url: str
    inputs: dict[str, bytes] = field(default_factory=dict)  # each active batch's input file, read once
    tallied: dict[str, float] = field(default_factory=dict)  # when each batch's lines were last counted

    @property
    def svc(self) -> Services:
        """The API's services the runner shares (job store, settings, storage reader)."""
        svc: Services = self.app.extensions["llmb"]
        return svc

    def context(self, endpoint: str, body: str = "{}") -> RequestContext:
        """A request context for `endpoint` with `body` as its JSON body (what the route code reads)."""
        return self.app.test_request_context(
            endpoint, method="POST", data=body, content_type="application/json", base_url=self.base_url
        )

    def step(self, batch_id: str) -> None:
        """One turn of one batch; the batch leaves the active set once it has ended."""
        record, offset = self.batches.load(batch_id)
        if record.status == "validating":
            record = self._validate(record)
            self.batches.save(record)
        elif record.id not in self.inputs and record.status not in ENDED:
            record = self._reread(record)
        if record.status in ENDED:
            self.batches.retire(batch_id)
            self.inputs.pop(batch_id, None)
            self.tallied.pop(batch_id, None)
            return
        data = self._input(record)
        stopping = self._stopping(record)
        if stopping is None and offset < len(data):
            offset = self._expand(record, data, offset)
        read = offset >= len(data)
        if stopping is None and time.monotonic() - self.tallied.get(batch_id, 0) < TALLY_EVERY_S:
            return  # counting every line each turn would make a big batch cost O(lines) a turn
        self.tallied[batch_id] = time.monotonic()
        tally = self._tally(record, stopping)
        record = record.model_copy(update={"completed": tally.completed, "failed": tally.failed})
        if tally.pending == 0 and (stopping is not None or read):
            record = finalize(self, record, data, stopping)
        self.batches.save(record)

    def _input(self, record: BatchRecord) -> bytes:
        if record.id not in self.inputs:
            stored = self.files.get(record.input_file_id, record.owner)
            self.inputs[record.id] = self.objects.get(stored.object_key)
        return self.inputs[record.id]

    def _validate(self, record: BatchRecord) -> BatchRecord:
        """in_progress with its line count, or failed naming why its file cannot be run."""
        now = int(time.time())
        try:
            data = self._input(record)
        except NotFoundError:
            return _failed(record, "invalid_file", f"the input file {record.input_file_id} is gone", now)
        total = sum(1 for _ in nonblank(data))
        cap = self.svc.settings.limits.batch_max_lines
        if not total or total > cap:
            message = f"the input file has {total} requests; a batch takes from 1 to {cap}"
            return _failed(record, "invalid_file", message, now)
        return record.model_copy(update={"status": "in_progress", "in_progress_at": now, "total": total})

    def _reread(self, record: BatchRecord) -> BatchRecord:
        """The batch as it was, its input read again (a restarted runner); failed if the file is gone."""
        try:
            self._input(record)
        except NotFoundError:
            message = f"the input file {record.input_file_id} was deleted while the batch ran"
            record = _failed(record, "invalid_file", message, int(time.time()))
            self.batches.save(record)
        return record

    def _stopping(self, record: BatchRecord) -> str | None:
        """How the batch ends early: cancelled (asked), expired (past its window), or None."""
        if record.cancel_at:
            return "cancelled"
        return "expired" if time.time() >= record.expires_at else None

    def _expand(self, record: BatchRecord, data: bytes, offset: int) -> int:
        """Enqueue up to CHUNK more lines; the offset read to (it stays put while the queue is full)."""
        index, entries = self.batches.line_count(record.id), list[str]()
        ids = [line_job_id(record.id, index + i) for i in range(CHUNK)]
        made = self.batches.existing(ids)  # one round trip: jobs a runner made before it died
        key = self.svc.keys.get(record.key_id)  # its own cap on active jobs, if it has one
        max_active = (key.max_active_jobs if key else None) or self.svc.settings.limits.key_max_active_jobs
        budgets = job_budgets(key.budget if key else None, self.svc.settings.limits)  # for the 80 % alert
        for raw, end in nonblank(data, offset):
            try:
                entry = self._enqueue(record, raw, ids[len(entries)], made, max_active, budgets=budgets)
                entries.append(entry)
            except (QueueFullError, TenantQueueFullError, TooManyActiveJobsError):
                break
            offset = end
            if len(entries) == CHUNK:
                break
        self.batches.add_lines(record.id, entries, offset)
        return offset

    def _enqueue(
        self,
        record: BatchRecord,
        raw: bytes,
        job_id: str,
        made: set[str],
        max_active: int,
        *,
        budgets: dict[str, Any] | None = None,
    ) -> str:
        """The line's entry: its job, made unless it is in `made`, or why it was refused.

        `max_active` is the batch key's cap on active jobs, `budgets` the caps its jobs count against.
        """
        try:
            line = split(raw, record.endpoint)
            with self.context(record.endpoint, line.body):
                _, job_input = parse(self.svc, ENDPOINTS[record.endpoint])
        except ServiceError as exc:
            return error_entry(exc.status, openai_body(exc))
        if job_id not in made:
            limits = self.svc.settings.limits
            job = _job(record, job_id, job_input).model_copy(update={"budgets": budgets})
            self.svc.store.create(
                job,
                max_waiting=limits.queue_max_waiting,
                max_tenant_waiting=limits.tenant_max_waiting,
                max_active=max_active,
                weight=self.svc.settings.weight_of(job.owner),
            )
        return f"j:{job_id}"

    def _tally(self, record: BatchRecord, stopping: str | None) -> Tally:
        """Count the lines' ends; while stopping, cancel queued lines (expired: running ones too)."""
        tally, start = Tally(), 0
        while entries := self.batches.lines(record.id, start, 1000):
            start += len(entries)
            ids = [e[2:] for e in entries if e.startswith("j:")]
            tally.failed += len(entries) - len(ids)
            for job_id, status in zip(ids, self.batches.job_statuses(ids), strict=True):
                if status == JobStatus.SUCCEEDED.value:
                    tally.completed += 1
                elif status not in _PENDING:
                    tally.failed += 1
                else:
                    tally.pending += 1
                    if stopping == "expired" or (stopping and status == JobStatus.QUEUED.value):
                        self._cancel(job_id)
        return tally

    def _cancel(self, job_id: str) -> None:
        with contextlib.suppress(InvalidTransitionError, NotFoundError):  # it ended meanwhile
            self.svc.store.cancel(job_id)


def _failed(record: BatchRecord, code: str, message: str, now: int) -> BatchRecord:
    errors = [{"code": code, "message": message, "param": "input_file_id", "line": None}]
    return record.model_copy(update={"status": "failed", "failed_at": now, "errors": errors})


def _job(record: BatchRecord, job_id: str, job_input: JobInput) -> JobRecord:
    """A batch line's job: the batch's tenant and key, the batch's id, at batch priority."""
    return JobRecord.model_construct(
        id=job_id,
        type=ENDPOINTS[record.endpoint],
        owner=record.owner,
        key_id=record.key_id,
        status=JobStatus.QUEUED,
        input=job_input.model_dump(mode="json", exclude_none=True),
        created_at=time.time(),
        batch_key=job_input.batch_key,
        batch_id=record.id,
        priority="batch",
    )
