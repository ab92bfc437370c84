"""Errors that services raise and views translate (to a page message or a JSON response)."""


class ServiceError(Exception):
    """A request that cannot be carried out; `message` is shown to the user."""

    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotAllowed(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """The data changed underneath the request (stale version, status moved on)."""

    status = 409

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current


class Invalid(ServiceError):
    status = 422
