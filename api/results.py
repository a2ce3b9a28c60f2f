"""/v1/jobs/{id}/result: the bytes of a finished job's result, or a redirect to a presigned URL."""

from __future__ import annotations

from flask import Blueprint, Response, json

from api.caller import owned
from api.operations import operation
from api.services import services
from api.spec import Answer
from shared.auth import Scope
from shared.errors import ConflictError, NotFoundError
from shared.job_record import JobStatus

bp = Blueprint("results", __name__, url_prefix="/v1/jobs")

_ANSWERS = {
    200: Answer(
        "the file's bytes, or the JSON result of a job without files",
        {"image/png": None, "application/json": None},
    ),
    302: Answer(
        "a short-lived presigned URL of the file (S3 storage)", headers={"Location": "the presigned URL"}
    ),
}
_PROBLEMS = (404, 409, 503)


@operation(bp.get("/<job_id>/result"), _ANSWERS, scopes=(Scope.JOBS_READ,), problems=_PROBLEMS)
def result(job_id: str) -> Response:
    """The job's first result file, or its JSON result; 404, 409 until it succeeded, 503."""
    return _result(job_id, 0)


@operation(bp.get("/<job_id>/result/<int:index>"), _ANSWERS, scopes=(Scope.JOBS_READ,), problems=_PROBLEMS)
def result_file(job_id: str, index: int) -> Response:
    """One of the job's result files by index; 404, 409 until it succeeded, 503."""
    return _result(job_id, index)


def _result(job_id: str, index: int) -> Response:
    svc = services()
    record = owned(svc.store.get(job_id))
    if record.status != JobStatus.SUCCEEDED or record.result is None:
        raise ConflictError(f"job {job_id} is {record.status}; a result exists only once it succeeded")
    files = record.result.get("files", [])
    if not files:
        if index != 0:
            raise NotFoundError(f"job {job_id} has no result file {index}")
        return Response(json.dumps(record.result), mimetype="application/json")
    if index >= len(files):
        raise NotFoundError(f"job {job_id} has {len(files)} result files; there is no index {index}")
    entry = files[index]
    url = svc.storage.presigned_url(entry["key"], content_type=entry["content_type"])
    if url is not None:
        return Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})
    data = svc.storage.get(entry["key"])
    return Response(
        data, mimetype=entry["content_type"], headers={"Cache-Control": "private, max-age=3600, immutable"}
    )
