"""Errors raised by services; their messages are Portuguese and shown to people as-is."""


class ServiceError(Exception):
    """Base of every error a person can fix or must be told about."""


class ValidationError(ServiceError):
    """Input that cannot be accepted; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ServiceError):
    """The object does not exist, or the actor may not know it exists."""


class StaleObject(ServiceError):
    """Someone else changed the object since it was read."""

    def __init__(self) -> None:
        super().__init__("Esta solicitação foi alterada por outra pessoa. Recarregue a página.")
