"""Ending a batch: every line of its input in exactly one of its output file (2xx answers) or its error
file (the rest), each in OpenAI's line format, then the batch `completed`, `cancelled` or `expired`.

A line that never ran because the batch was cancelled or expired gets OpenAI's line error
(`batch_cancelled` / `batch_expired`) instead of a response.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from flask.ctx import RequestContext

from api.batches.lines import ENDPOINTS, answer, custom_id_of, nonblank, parse, split
from api.services import Services
from shared.errors import NotFoundError, ServiceError
from shared.job_record import JobStatus
from shared.storage import ObjectStore
from shared.store.batches import BatchRecord, BatchStore
from shared.store.files import FileRecord, FileStore, object_key


class Runner(Protocol):
    """What finalizing needs of the batch runner."""

    batches: BatchStore
    files: FileStore
    objects: ObjectStore

    @property
    def svc(self) -> Services:
        """The API's services."""

    def context(self, endpoint: str, body: str = "{}") -> RequestContext:
        """A request context for `endpoint` with `body` as its JSON body."""


_NOT_RUN = {
    "cancelled": "This request was not run: the batch was cancelled.",
    "expired": "This request could not be executed before the completion window expired.",
}


def finalize(runner: Runner, record: BatchRecord, data: bytes, stopping: str | None) -> BatchRecord:
    """Write the batch's output and error files and end it (`stopping`, else completed)."""
    runner.batches.save(record.model_copy(update={"status": "finalizing", "finalizing_at": int(time.time())}))
    out: list[bytes] = []
    err: list[bytes] = []
    entries: list[str] = []
    for index, (raw, _) in enumerate(nonblank(data)):
        if index == len(entries) and index % 1000 == 0:
            entries += runner.batches.lines(record.id, index, 1000)
        entry = entries[index] if index < len(entries) else None
        line = _line(runner, record, raw, entry, stopping=stopping, index=index)
        (out if line.get("response") and line["response"]["status_code"] == 200 else err).append(
            json.dumps(line, ensure_ascii=False).encode() + b"\n"
        )
    status = stopping or "completed"
    return record.model_copy(
        update={
            "status": status,
            f"{status}_at": int(time.time()),
            "completed": len(out),
            "failed": len(err),
            "output_file_id": _store(runner, record, "output", out),
            "error_file_id": _store(runner, record, "error", err),
        }
    )


def _line(
    runner: Runner, record: BatchRecord, raw: bytes, entry: str | None, *, stopping: str | None, index: int
) -> dict[str, Any]:
    """One output or error line for the input line `raw` and its entry."""
    line_id = f"batch_req_{record.id.removeprefix('batch_')}_{index}"
    custom_id = custom_id_of(raw)
    if entry is None:
        return _not_run(line_id, custom_id, stopping)
    if entry.startswith("e:"):
        refused = json.loads(entry[2:])
        return _response(line_id, custom_id, None, refused["status_code"], refused["body"])
    job_id = entry[2:]
    try:
        job = runner.svc.store.get(job_id)
    except NotFoundError:
        body = {
            "error": {
                "message": f"the job {job_id} expired",
                "type": "server_error",
                "param": None,
                "code": "expired",
            }
        }
        return _response(line_id, custom_id, job_id, 500, body)
    if stopping and job.status in (JobStatus.CANCELED, JobStatus.QUEUED, JobStatus.RUNNING):
        return _not_run(line_id, custom_id, stopping)
    job_type = ENDPOINTS[record.endpoint]
    try:
        with runner.context(record.endpoint, split(raw, record.endpoint).body):
            request, _ = parse(runner.svc, job_type)
            status_code, body = answer(runner.svc, job_type, request, job)
    except ServiceError as exc:  # the model was removed since: answered as the route would now
        from api.problems import openai_body

        status_code, body = exc.status, openai_body(exc)
    return _response(line_id, custom_id, job_id, status_code, body)


def _response(
    line_id: str, custom_id: str | None, job_id: str | None, status_code: int, body: dict[str, Any]
) -> dict[str, Any]:
    response = {"status_code": status_code, "request_id": job_id, "body": body}
    return {"id": line_id, "custom_id": custom_id, "response": response, "error": None}


def _not_run(line_id: str, custom_id: str | None, stopping: str | None) -> dict[str, Any]:
    reason = stopping or "cancelled"
    error = {"code": f"batch_{reason}", "message": _NOT_RUN[reason]}
    return {"id": line_id, "custom_id": custom_id, "response": None, "error": error}


def _store(runner: Runner, record: BatchRecord, kind: str, lines: list[bytes]) -> str | None:
    """A made file of the batch's, owned by its tenant; None when it has no line."""
    if not lines:
        return None
    file_id = f"file-{record.id.removeprefix('batch_')}{kind[0]}"
    key = object_key(record.owner, file_id)
    data = b"".join(lines)
    runner.objects.put(key, data, content_type="application/jsonl")
    made = FileRecord(
        id=file_id,
        owner=record.owner,
        bytes=len(data),
        created_at=int(time.time()),
        filename=f"{record.id}_{kind}.jsonl",
        purpose="batch_output",
        object_key=key,
    )
    runner.files.add(made)
    return file_id
