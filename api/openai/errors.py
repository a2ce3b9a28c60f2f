"""Errors only the OpenAI-compatible routes raise; api/problems.py renders them in OpenAI's shape.

Besides a status, each may carry `param` (the request field, as OpenAI names it), `openai_code` (the
code OpenAI's clients know, such as model_not_found) and `should_retry` (sent as X-Should-Retry,
which the OpenAI SDKs obey over their own rule of retrying every 409, 429 and 5xx).
"""

from __future__ import annotations

from api.spec import Answer
from shared.errors import GatewayTimeoutError, InputError, NotFoundError, ServiceError
from shared.job_record import JobRecord, JobStatus
from shared.vocabulary import ErrorCode


class InvalidRequestError(InputError):
    """A request OpenAI would refuse with 400: a field that is wrong, unknown, or set to what we cannot do."""

    status = 400

    def __init__(self, message: str, *, param: str | None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param = param
        self.openai_code = code


class UnknownModelError(NotFoundError):
    """A `model` this deployment does not serve (or not for this route)."""

    openai_code = "model_not_found"
    param = "model"


class JobEndedError(ServiceError):
    """The request's job ended without a result: failed, or canceled from elsewhere."""

    should_retry = False  # running it again would end the same way, or undo the cancel

    def __init__(
        self, message: str, *, status: int, code: str, job_id: str, param: str | None = None
    ) -> None:
        super().__init__(message, job_id=job_id)
        self.status = status
        self.openai_code = code
        self.param = param


class WaitTimeoutError(GatewayTimeoutError):
    """The job did not finish within LLMB_OPENAI_WAIT_S; it goes on."""

    def __init__(self, message: str, *, job_id: str, retry: bool) -> None:
        super().__init__(message, job_id=job_id)
        # With an Idempotency-Key a retry waits on the same job; without one it would start another.
        self.should_retry = retry


def ended(record: JobRecord, *, param: str | None = None) -> JobEndedError:
    """The error for a job that ended without a result: 400 refused input, 409 canceled, else 500."""
    code = record.error.code.value if record.error else None
    message = record.error.message if record.error else f"the job ended {record.status}"
    if record.status == JobStatus.CANCELED:
        return JobEndedError(
            f"job {record.id} was canceled: {message}", status=409, code=code or "canceled", job_id=record.id
        )
    if code == ErrorCode.INVALID_INPUT:
        return JobEndedError(message, status=400, code=code, job_id=record.id, param=param)
    return JobEndedError(
        f"job {record.id} failed: {message}", status=500, code=code or "internal", job_id=record.id
    )


TAGS = ("OpenAI-compatible",)
ERROR = "an error in OpenAI's shape: {error: {message, type, param, code}}"
# What a route that submits a job can answer besides 200 (401 and 403 come with its scopes).
WRITE_ERRORS = (400, 404, 409, 413, 415, 422, 429, 500, 503, 504)


def answers(ok: str, *errors: int) -> dict[int, Answer]:
    """The document's answers of an OpenAI-compatible route: `ok`, and its errors in OpenAI's shape."""
    return {200: Answer(ok), **{status: Answer(ERROR) for status in errors}}
