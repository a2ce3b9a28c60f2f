"""The original backend's synchronous endpoint, kept: POST /model/generate answers a PNG."""

from __future__ import annotations

from flask import Blueprint, Response, g

from api.auth import principal
from api.operations import operation
from api.schemas import LegacyGenerate
from api.services import services
from api.spec import Answer
from api.submit import submit_job
from shared.auth import Scope
from shared.errors import GatewayTimeoutError, JobFailedError
from shared.inputs import ImageInput
from shared.job_record import JobStatus, JobType

bp = Blueprint("legacy", __name__)


@operation(
    bp.post("/model/generate"),
    {200: Answer("the image", {"image/png": None}, {"X-Job-Id": "the job that made it"})},
    scopes=(Scope.JOBS_WRITE,),
    problems=(502, 503, 504),
    body=LegacyGenerate,
)
def generate(body: LegacyGenerate) -> Response:
    """A 512x512 PNG for `text`, synchronously; 400, 413, 422, 502 when the job failed, 503, 504."""
    svc = services()
    wait_s = svc.settings.limits.max_wait_s
    done = submit_job(svc, JobType.IMAGE, ImageInput(prompt=body.text), principal=principal(), wait_s=wait_s)
    record = done.record
    g.job_id = record.id
    if record.status == JobStatus.SUCCEEDED and record.result:
        key = record.result["files"][0]["key"]
        return Response(svc.storage.get(key), mimetype="image/png", headers={"X-Job-Id": record.id})
    if record.status.terminal:
        detail = record.error.message if record.error else f"the job ended {record.status}"
        raise JobFailedError(detail, job_id=record.id)
    raise GatewayTimeoutError(
        f"the image was not ready within {wait_s} s; job {record.id} goes on", job_id=record.id
    )
