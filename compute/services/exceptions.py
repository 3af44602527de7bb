"""Errors raised by compute operations; each carries the user-facing message."""


class ComputeError(Exception):
    code = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(ComputeError):
    code = 400


class NotFound(ComputeError):
    code = 404


class Conflict(ComputeError):
    code = 409


class Forbidden(ComputeError):
    code = 403


class OverQuota(Forbidden):
    """A request would exceed the project's quota (403 in the compute API, as Nova)."""


class ServiceUnavailable(ComputeError):
    """A host or service needed for the answer did not respond in time."""

    code = 503
