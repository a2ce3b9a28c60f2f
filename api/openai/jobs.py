"""What the OpenAI-compatible views share: read the body, make the job input, submit, wait and answer.

Every request is a job through `api.submit.submit_job`: the same record, queue, batching, limits, keys
and tenants as POST /v1/jobs, with Idempotency-Key and Cancel-After read the same way.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Response, g

from api.auth import principal
from api.body import read_body
from api.headers import create_headers
from api.openai.errors import InvalidRequestError, WaitTimeoutError, ended
from api.services import Services
from api.submit import Options, Submitted, submit_job
from api.waiting import long_wait
from shared.errors import InputError, MalformedBodyError
from shared.inputs import JobInput, parse_input
from shared.job_record import JobRecord, JobStatus, JobType
from shared.settings import Limits

S = TypeVar("S")

_CODES = {
    "extra_forbidden": "unknown_parameter",
    "missing": "missing_required_parameter",
    "unsupported_value": "unsupported_value",
}


def param_name(field: str, rename: dict[str, str] | None = None) -> str:
    """A field's dotted path as OpenAI names parameters: messages.0.content -> messages[0].content."""
    head, *rest = field.split(".")
    name = (rename or {}).get(head, head)
    return name + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)


def _deepest(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors, less a union member's wrong-type error where another member's names a field inside."""
    fields = [str(e["field"]) for e in errors]
    return [
        e
        for e in errors
        if not (
            str(e.get("type", "")).endswith("_type") and any(f.startswith(f"{e['field']}.") for f in fields)
        )
    ]


def invalid(exc: InputError, *, rename: dict[str, str] | None = None) -> InvalidRequestError:
    """A 400 naming the fields of an InputError (the first one as `param`)."""
    errors = _deepest(exc.errors)
    if not errors:
        return InvalidRequestError(str(exc), param=None)
    names = [param_name(str(e["field"]), rename) for e in errors]
    said = [
        f"Unrecognized request argument supplied: {name}"
        if e.get("type") == "extra_forbidden"
        else f"Invalid '{name}': {e['message']}"
        for name, e in zip(names, errors, strict=True)
    ]
    code = _CODES.get(str(errors[0].get("type")), "invalid_value")
    return InvalidRequestError("; ".join(dict.fromkeys(said)), param=names[0], code=code)


def read_request(schema: type[S], limits: Limits) -> S:
    """The body parsed into `schema`; InvalidRequestError (400) naming each field it gets wrong."""
    try:
        parsed: S = read_body(schema, limits)
    except MalformedBodyError as exc:
        raise InvalidRequestError(str(exc), param=None, code="invalid_json") from exc
    except InputError as exc:
        raise invalid(exc) from exc
    return parsed


def job_input(
    job_type: JobType, data: dict[str, Any], limits: Limits, *, rename: dict[str, str] | None = None
) -> JobInput:
    """The job's input with its own rules and caps; InvalidRequestError naming the OpenAI field."""
    try:
        return parse_input(job_type, data, limits, prefix="")
    except InputError as exc:
        raise invalid(exc, rename=rename) from exc


def submit(svc: Services, route: str, job_type: JobType, job_input: JobInput, *, wait_s: int) -> Submitted:
    """Submit the job (Idempotency-Key: the same job for the same input), waiting up to `wait_s` s."""
    canonical = json.dumps([route, job_input.model_dump(mode="json")], sort_keys=True)
    options = Options.requested(create_headers(svc.settings.limits), canonical)
    if wait_s:  # the request long-waits for its job: a place under the caps, or 429 before submitting
        svc.holder.hold_request(principal())
    done = submit_job(svc, job_type, job_input, principal=principal(), wait_s=wait_s, options=options)
    g.job_id = done.record.id
    return done


def finished(svc: Services, done: Submitted, wait_s: int, *, param: str | None = None) -> JobRecord:
    """The job once it succeeded; the error for one that ended otherwise, or 504 while it goes on."""
    record = done.record
    if done.replayed and not record.status.terminal:  # an Idempotency-Key retry waits on the same job
        record = long_wait(svc, record.id, wait_s)
    if record.status == JobStatus.SUCCEEDED:
        return record
    if record.status.terminal:
        raise ended(record, param=param)
    raise WaitTimeoutError(
        f"job {record.id} did not finish within {wait_s} s; it goes on: GET /v1/jobs/{record.id}",
        job_id=record.id,
        retry=done.retryable,
    )


def answer(body: dict[str, Any], done: Submitted) -> Response:
    """A JSON answer with the job's id, the key's RateLimit headers, and Idempotent-Replayed on a replay."""
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    response.headers.update({"X-Job-Id": done.record.id, **done.headers})
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
