"""Domain errors raised by services, and the one table that maps each kind to an HTTP status.

Their messages are Portuguese and shown to people as-is. Views, the error handler and, later,
the API ask `http_status` which code an error means; none of them looks at a message's text.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a person can fix or must be told about."""

    status = 400


class ValidationError(ServiceError):
    """Input that cannot be accepted; `field` names the form field it belongs to."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FormErrors(ValidationError):
    """Several field errors at once, so a form can show them all."""

    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class NotFound(ServiceError):
    """The object does not exist, or the actor may not know it exists."""

    status = 404

    def __init__(self, message: str = "Página não encontrada.") -> None:
        super().__init__(message)


class Forbidden(NotFound):
    """The actor may not do this. Shown as 404, as for objects they cannot see, so nobody
    learns what exists by being refused."""


class StaleObject(ServiceError):
    """Someone else changed the object since it was read."""

    status = 409

    def __init__(self) -> None:
        super().__init__("Esta solicitação foi alterada por outra pessoa. Recarregue a página.")


class Conflict(ServiceError):
    """The action does not apply to the object as it is now (an illegal transition)."""

    status = 409


class Throttled(ServiceError):
    """Too many attempts in too little time."""

    status = 429


class Unauthorized(ServiceError):
    """The credentials were not accepted."""

    status = 401


def require(allowed: bool) -> None:
    """A policy's answer as an error: services call `require(policy.can_x(actor, ...))`."""
    if not allowed:
        raise Forbidden()


def http_status(error: BaseException) -> int:
    """The status code an error means: the one place that decides it."""
    return getattr(error, "status", 500) if isinstance(error, ServiceError) else 500
