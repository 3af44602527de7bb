"""Compute business operations (plain Python: no HTTP, no Celery).

Views and CLI commands call these and translate `ComputeError`s into their own errors.
"""
from .exceptions import ComputeError, Conflict, Invalid, NotFound

__all__ = ["ComputeError", "Conflict", "Invalid", "NotFound"]
