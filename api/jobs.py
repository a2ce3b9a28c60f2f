"""/v1/jobs: create, read (with long-wait), list and cancel jobs."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, Response, g, request, url_for

from api.auth import principal
from api.caller import base_url, owned
from api.headers import CREATE_HEADERS, create_headers
from api.operations import operation
from api.schemas import JobCreate, JobList
from api.services import services
from api.spec import capped, header, json_answer, query
from api.submit import Options, submit_job
from api.waiting import long_wait, prefer_wait, wait_query
from shared import numbers
from shared.auth import Scope
from shared.errors import InputError
from shared.job_record import JobRecord, JobType
from shared.store import Place
from shared.views import render_job

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")
_CURSOR = {"type": "string", "pattern": "^[0-9]{1,30}(\\.[0-9]{1,30})?$"}


def _job_response(record: JobRecord, status: int, place: Place | None = None) -> Response:
    view = render_job(record, base=base_url(services().settings.public_url), place=place)
    return Response(view.model_dump_json(), status=status, mimetype="application/json")


@operation(
    bp.post(""),
    {
        202: json_answer("the job, queued", "JobView", Location="where the job lives"),
        200: json_answer("the job, finished within the wait", "JobView", **{"Preference-Applied": "wait=N"}),
    },
    scopes=(Scope.JOBS_WRITE,),
    problems=(409, 429, 503),
    body=JobCreate,
    params=(
        header("Prefer", {"type": "string"}, "wait=N (N <= 60): answer when the job ends within N s"),
        *CREATE_HEADERS,
    ),
)
def create(body: JobCreate) -> Response:
    """Submit a job: 202, or 200 once done within `Prefer: wait` or replayed; 4xx as listed, 503."""
    svc = services()
    wait_s = prefer_wait(svc.settings.limits)
    options = Options.requested(
        create_headers(svc.settings.limits),
        body.model_dump_json(),
        deadline_s=body.deadline_s,
        webhook=body.webhook,
        priority=body.priority,
    )
    with svc.holder.place(principal()) if wait_s else nullcontext():
        done = submit_job(
            svc, JobType(body.type), body.input, principal=principal(), wait_s=wait_s, options=options
        )
    g.job_id = done.record.id
    finished = done.record.status.terminal or done.replayed
    response = _job_response(done.record, 200 if finished else 202, done.place)
    response.headers.update(done.headers)
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = url_for("jobs.get", job_id=done.record.id)
    if wait_s:
        response.headers["Preference-Applied"] = f"wait={wait_s}"
    return response


@operation(
    bp.get("/<job_id>"),
    {200: json_answer("the job", "JobView")},
    scopes=(Scope.JOBS_READ,),
    problems=(404, 422, 429, 503),
    params=(
        query("wait", capped({"type": "integer", "minimum": 0}, maximum="max_wait_s"), "long-wait up to N s"),
    ),
)
def get(job_id: str) -> Response:
    """The job; `?wait=N` returns once it is finished or N seconds passed; 404, 422, 503."""
    svc = services()
    wait_s = wait_query(svc.settings.limits)
    record = owned(svc.store.get(job_id))
    if wait_s:
        with svc.holder.place(principal()):
            record = long_wait(svc, job_id, wait_s)
    return _job_response(record, 200, svc.store.place(record))


@operation(
    bp.post("/<job_id>/cancel"),
    {200: json_answer("the job, canceled", "JobView")},
    scopes=(Scope.JOBS_WRITE,),
    problems=(404, 409, 503),
)
def cancel(job_id: str) -> Response:
    """Cancel a queued job at once, a running one at its next step; 404, 409 once finished, 503."""
    svc = services()
    owned(svc.store.get(job_id))
    return _job_response(svc.store.cancel(job_id), 200)


@operation(
    bp.get(""),
    {200: json_answer("a page of jobs", "JobList")},
    scopes=(Scope.JOBS_READ,),
    problems=(422, 503),
    params=(
        query(
            "limit",
            capped({"type": "integer", "minimum": 1, "default": 20}, maximum="list_max_page"),
            "page size",
        ),
        query("before", _CURSOR, "cursor from a `next` link (a creation time, epoch seconds)"),
    ),
)
def list_jobs() -> Response:
    """The caller's jobs, newest first, `limit` per page with a `next` link; 422, 503."""
    svc = services()
    limit, before = _page(svc.settings.limits.list_max_page)
    records = svc.store.list_for_owner(principal().tenant, limit=limit, before=before)
    base = base_url(svc.settings.public_url)
    next_url = None
    if len(records) == limit:
        next_url = f"{base}/v1/jobs?limit={limit}&before={records[-1].created_at!r}"
    page = JobList(jobs=[render_job(r, base=base) for r in records], next=next_url)
    return Response(page.model_dump_json(), mimetype="application/json")


def _page(max_page: int) -> tuple[int, float | None]:
    """The page size and cursor from the query; InputError naming the bad one."""
    limit_raw, before_raw = request.args.get("limit", "20"), request.args.get("before")
    limit = numbers.integer(limit_raw, low=1, high=max_page)
    if limit is None:
        message = f"must be an integer from 1 to {max_page}"
        raise InputError(f"limit {message}", errors=[{"field": "limit", "message": message}])
    before = numbers.decimal(before_raw)
    if before_raw is not None and before is None:
        raise InputError(
            "before must be a cursor from a `next` link",
            errors=[{"field": "before", "message": "not a cursor"}],
        )
    return limit, before
