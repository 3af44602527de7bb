"""Network business operations (plain Python: no HTTP, no Celery).

Errors subclass compute's, so compute API views turn them into 400/404/409 envelopes.
"""
from cloudproj.exceptions import CloudError, Conflict, Invalid, NotFound


class NetworkError(CloudError):
    pass


class InvalidNetwork(NetworkError, Invalid):
    code = 400


class NetworkNotFound(NetworkError, NotFound):
    code = 404


class NetworkInUse(NetworkError, Conflict):
    code = 409


class NoMoreFixedIps(NetworkError, Conflict):
    code = 409


__all__ = ["NetworkError", "InvalidNetwork", "NetworkNotFound", "NetworkInUse", "NoMoreFixedIps"]
