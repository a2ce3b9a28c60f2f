"""/v1/jobs/{id}/result: the bytes of a finished job's result, or a redirect to a presigned URL."""

from __future__ import annotations

from flask import Blueprint, Response, json

from api.http import owned
from api.services import services
from shared.errors import ConflictError, NotFoundError
from shared.jobs import JobStatus

bp = Blueprint("results", __name__, url_prefix="/v1/jobs")


@bp.get("/<job_id>/result")
@bp.get("/<job_id>/result/<int:index>")
def result(job_id: str, index: int = 0) -> Response:
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
        response = Response(status=302, headers={"Location": url})
        response.headers["Cache-Control"] = "no-store"
        return response
    data = svc.storage.get(entry["key"])
    response = Response(data, mimetype=entry["content_type"])
    response.headers["Cache-Control"] = "private, max-age=3600, immutable"
    return response
