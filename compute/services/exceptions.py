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
