"""/v1/jobs: create, read (with long-wait), list and cancel jobs."""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, Response, request, url_for

from api.http import base_url, owned, owner, prefer_wait, read_body, wait_query
from api.schemas import JobCreate, JobList, render_job
from api.services import services
from shared.errors import InputError
from shared.events import wait_for_terminal
from shared.inputs import parse_input
from shared.jobs import JobRecord, JobStatus
from shared.queues import task_message

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")


def _job_response(record: JobRecord, status: int, position: int | None = None) -> Response:
    svc = services()
    view = render_job(record, base=base_url(svc.settings.public_url), position=position)
    return Response(view.model_dump_json(), status=status, mimetype="application/json")


def create_job(body: JobCreate, *, wait_s: int) -> tuple[JobRecord, int | None]:
    """Validate, store and enqueue a job; then wait up to `wait_s` for it to finish."""
    svc = services()
    job_input = parse_input(body.type, body.input, svc.settings.limits)
    job_id = str(uuid.uuid4())
    # Every field is ours or already validated: no need to validate the record again.
    record = JobRecord.model_construct(
        id=job_id,
        type=body.type,
        owner=owner(),
        status=JobStatus.QUEUED,
        input=job_input.model_dump(mode="json", exclude_none=True),
        created_at=time.time(),
    )
    created = svc.store.create(record, task_message(job_id, body.type.value))
    if not wait_s:
        return created.record, created.position
    since = (created.record, created.event_id)
    record = wait_for_terminal(svc.store, svc.events, svc.hub, job_id, wait_s, since=since)
    return record, svc.store.position(record)


@bp.post("")
def create() -> Response:
    svc = services()
    body = read_body(JobCreate, svc.settings.limits)
    wait_s = prefer_wait(svc.settings.limits)
    record, position = create_job(body, wait_s=wait_s)
    response = _job_response(record, 200 if record.status.terminal else 202, position)
    response.headers["Location"] = url_for("jobs.get", job_id=record.id)
    if wait_s:
        response.headers["Preference-Applied"] = f"wait={wait_s}"
    return response


@bp.get("/<job_id>")
def get(job_id: str) -> Response:
    svc = services()
    wait_s = wait_query(svc.settings.limits)
    record = owned(svc.store.get(job_id))
    if wait_s:
        record = wait_for_terminal(svc.store, svc.events, svc.hub, job_id, wait_s)
    return _job_response(record, 200, svc.store.position(record))


@bp.post("/<job_id>/cancel")
def cancel(job_id: str) -> Response:
    svc = services()
    owned(svc.store.get(job_id))
    return _job_response(svc.store.cancel(job_id), 200)


@bp.get("")
def list_jobs() -> Response:
    svc = services()
    limits = svc.settings.limits
    limit_raw, before_raw = request.args.get("limit", "20"), request.args.get("before")
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= limits.list_max_page:
        message = f"must be an integer from 1 to {limits.list_max_page}"
        raise InputError(f"limit {message}", [{"field": "limit", "message": message}])
    try:
        before = float(before_raw) if before_raw is not None else None
    except ValueError as exc:
        raise InputError(
            "before must be a cursor from a `next` link", [{"field": "before", "message": "not a cursor"}]
        ) from exc
    limit = int(limit_raw)
    records = svc.store.list_for_owner(owner(), limit=limit, before=before)
    base = base_url(svc.settings.public_url)
    next_url = None
    if len(records) == limit:
        next_url = f"{base}/v1/jobs?limit={limit}&before={records[-1].created_at!r}"
    page = JobList(jobs=[render_job(r, base=base) for r in records], next=next_url)
    return Response(page.model_dump_json(), mimetype="application/json")
