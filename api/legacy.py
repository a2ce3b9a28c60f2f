"""The original backend's synchronous endpoint, kept: POST /model/generate answers a PNG."""

from __future__ import annotations

from flask import Blueprint, Response

from api.http import read_body
from api.jobs import create_job
from api.problems import problem
from api.schemas import JobCreate, LegacyGenerate
from api.services import services
from shared.jobs import JobStatus, JobType

bp = Blueprint("legacy", __name__)


@bp.post("/model/generate")
def generate() -> Response:
    svc = services()
    body = read_body(LegacyGenerate, svc.settings.limits)
    job = JobCreate(type=JobType.IMAGE, input={"prompt": body.text})
    record, _ = create_job(job, wait_s=svc.settings.limits.max_wait_s)
    if record.status == JobStatus.SUCCEEDED and record.result:
        key = record.result["files"][0]["key"]
        return Response(svc.storage.get(key), mimetype="image/png", headers={"X-Job-Id": record.id})
    if record.status.terminal:
        detail = record.error.message if record.error else f"the job ended {record.status}"
        return problem(502, "job_failed", "Generation failed", detail, job_id=record.id)
    detail = f"the image was not ready within {svc.settings.limits.max_wait_s} s; job {record.id} goes on"
    return problem(504, "timeout", "Generation timed out", detail, job_id=record.id)
