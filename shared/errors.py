"""The service's error hierarchy; the API turns each into one problem+json answer (api/problems.py)."""

from __future__ import annotations

from typing import Any

from shared.vocabulary import ErrorCode


class ServiceError(Exception):
    """Base of every error the service raises on purpose: an HTTP status, a code and a title."""

    status = 500
    code = ErrorCode.INTERNAL
    title = "Internal error"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.errors = errors or []
        self.extra = extra  # more members of the problem answer, e.g. the job id


class InputError(ServiceError):
    """A request or job input that breaks the schema or a cap, or that the model refuses."""

    status = 422
    code = ErrorCode.INVALID_INPUT
    title = "Invalid input"


class MalformedBodyError(InputError):
    """A request body that is not JSON at all."""

    status = 400
    code = ErrorCode.MALFORMED_BODY
    title = "Malformed body"


class BadHostError(ServiceError):
    """A request whose Host is not one the API answers for (DNS rebinding)."""

    status = 400
    code = ErrorCode.BAD_HOST
    title = "Bad host"


class UnauthorizedError(ServiceError):
    """A request without a key, or with a key that is malformed, wrong, revoked or expired (`reason`)."""

    status = 401
    code = ErrorCode.UNAUTHORIZED
    title = "Unauthorized"

    def __init__(self, message: str, *, reason: str, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.reason = reason  # missing, malformed, invalid, revoked or expired: counted, not shown


class ForbiddenError(ServiceError):
    """A key without the scope the request needs."""

    status = 403
    code = ErrorCode.FORBIDDEN
    title = "Forbidden"


class LimitedError(ServiceError):
    """A request refused by a limit; `retry_after_s` says when to try again, `headers` carry RateLimit."""

    status = 429
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after_s: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.headers = headers or {}


class RateLimitedError(LimitedError):
    """The key submitted more jobs per minute than it may."""

    code = ErrorCode.RATE_LIMITED


class TooManyActiveJobsError(LimitedError):
    """The key has as many queued and running jobs as it may."""

    code = ErrorCode.TOO_MANY_ACTIVE_JOBS


class TooManyStreamsError(LimitedError):
    """The key, or its tenant, holds as many event streams and long-waits open as it may."""

    code = ErrorCode.TOO_MANY_STREAMS


class TenantQueueFullError(LimitedError):
    """The tenant has as many jobs waiting in a queue as it may (one tenant's flood, refused early)."""

    code = ErrorCode.TOO_MANY_WAITING_JOBS


class BudgetExceededError(LimitedError):
    """The key or its tenant used its budget for the period; `retry_after_s` is the period's reset."""

    code = ErrorCode.BUDGET_EXCEEDED


class QueueFullError(LimitedError):
    """The queue holds as many waiting jobs as it may (backpressure for everyone)."""

    status = 503
    code = ErrorCode.QUEUE_FULL
    title = "Queue full"


class UnsupportedMediaTypeError(ServiceError):
    """A request body sent with a Content-Type other than application/json."""

    status = 415
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported media type"


class BodyTooLargeError(ServiceError):
    """A request body over the size limit."""

    status = 413
    code = ErrorCode.BODY_TOO_LARGE
    title = "Body too large"


class BodyTimeoutError(ServiceError):
    """A request body that did not arrive whole within the time allowed (a client trickling it)."""

    status = 408
    code = ErrorCode.BODY_TIMEOUT
    title = "Body timeout"


class NotFoundError(ServiceError):
    """An unknown or expired job, or a result that does not exist."""

    status = 404
    code = ErrorCode.NOT_FOUND
    title = "Not found"


class ConflictError(ServiceError):
    """The job is not in a state that allows the request."""

    status = 409
    code = ErrorCode.CONFLICT
    title = "Conflict"


class InvalidTransitionError(ConflictError):
    """A status change the state machine forbids."""


class UnavailableError(ServiceError):
    """A dependency (Redis, the object store) does not answer."""

    status = 503
    code = ErrorCode.UNAVAILABLE
    title = "Service unavailable"


class NotReadyError(UnavailableError):
    """Readiness: a dependency the service needs does not answer."""

    code = ErrorCode.NOT_READY
    title = "Not ready"


class StorageError(UnavailableError):
    """The object store failed to store or return an object."""

    code = ErrorCode.STORAGE_UNAVAILABLE


class ResourceExhaustedError(ServiceError):
    """The job cannot fit in the device's memory even alone."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    title = "Resource exhausted"


class JobFailedError(ServiceError):
    """A synchronous request's job ended without a result."""

    status = 502
    code = ErrorCode.JOB_FAILED
    title = "Generation failed"


class GatewayTimeoutError(ServiceError):
    """A synchronous request's job did not finish within the wait; the job goes on."""

    status = 504
    code = ErrorCode.GATEWAY_TIMEOUT
    title = "Generation timed out"
