"""Floating IP operations (plain Python: no HTTP, no Celery).

Errors subclass compute's, so the compute API views answer 400/403/404/409 envelopes.
"""
from cloudproj.exceptions import CloudError, Conflict, Invalid, NotFound, OverQuota


class FloatingError(CloudError):
    pass


class InvalidFloating(FloatingError, Invalid):
    code = 400


class FloatingNotFound(FloatingError, NotFound):
    code = 404


class FloatingConflict(FloatingError, Conflict):
    code = 409


class NoMoreFloatingIps(FloatingNotFound):
    """The pool has no free address (Nova answers 404)."""


class FloatingOverQuota(FloatingError, OverQuota):
    code = 403


__all__ = ["FloatingError", "InvalidFloating", "FloatingNotFound", "FloatingConflict", "NoMoreFloatingIps",
           "FloatingOverQuota"]
