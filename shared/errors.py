"""The service's error hierarchy; the API turns each into one problem+json answer."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    code = "internal"
    title = "Internal error"


class InputError(ServiceError):
    """A request or job input that breaks the schema or a cap."""

    status = 422
    code = "invalid_input"
    title = "Invalid input"

    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class MalformedBodyError(InputError):
    """A request body that is not JSON at all."""

    status = 400
    code = "malformed_body"
    title = "Malformed body"


class NotFoundError(ServiceError):
    """An unknown or expired job, or a result that does not exist."""

    status = 404
    code = "not_found"
    title = "Not found"


class ConflictError(ServiceError):
    """The job is not in a state that allows the request."""

    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidTransitionError(ConflictError):
    """A status change the state machine forbids."""


class UnavailableError(ServiceError):
    """A dependency (Redis, the object store) does not answer."""

    status = 503
    code = "unavailable"
    title = "Service unavailable"


class StorageError(UnavailableError):
    """The object store failed to store or return an object."""

    code = "storage_unavailable"


class ResourceExhaustedError(ServiceError):
    """The job cannot fit in the device's memory even alone."""

    code = "resource_exhausted"
