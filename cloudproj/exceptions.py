"""The errors every app's services raise; each carries the user-facing message and the HTTP
code the APIs and the dashboard answer with. Apps subclass CloudError for their own."""


class CloudError(Exception):
    code = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(CloudError):
    code = 400


class NotFound(CloudError):
    code = 404


class Conflict(CloudError):
    code = 409


class Forbidden(CloudError):
    code = 403


class OverQuota(Forbidden):
    """A request would exceed the project's quota (403 in the compute API, as Nova)."""


class ServiceUnavailable(CloudError):
    """A host or service needed for the answer did not respond in time."""

    code = 503
