"""EC2's errors: a code from EC2's documented list, a message and the HTTP status."""
from cloudproj import exceptions


class Ec2Error(Exception):
    status = 400

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


def auth_failure(message: str = "AWS was not able to validate the provided access credentials") -> Ec2Error:
    return Ec2Error("AuthFailure", message, 401)


def invalid_value(message: str) -> Ec2Error:
    return Ec2Error("InvalidParameterValue", message)


def missing(name: str) -> Ec2Error:
    return Ec2Error("MissingParameter", f"The request must contain the parameter {name}")


def from_cloud_error(exc: Exception, not_found: str = "InvalidParameterValue") -> Ec2Error:
    """A service's error (cloudproj.exceptions or an API exception) as EC2 reports it."""
    message = getattr(exc, "message", None) or str(getattr(exc, "detail", exc))
    code = getattr(exc, "code", None) or getattr(exc, "status_code", 500)
    if isinstance(exc, exceptions.OverQuota):
        return Ec2Error("ResourceLimitExceeded", message)
    if code == 404:
        return Ec2Error(not_found, message)
    if code == 403:
        return Ec2Error("UnauthorizedOperation", message, 403)
    if code == 409:
        return Ec2Error("IncorrectState", message)
    if code == 413:
        return Ec2Error("ResourceLimitExceeded", message)
    if code == 503:
        return Ec2Error("Unavailable", message, 503)
    if isinstance(code, int) and 400 <= code < 500:
        return Ec2Error("InvalidParameterValue", message)
    return Ec2Error("InternalError", "An internal error has occurred", 500)
