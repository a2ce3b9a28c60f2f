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
