"""Request ids: `req-<uuid>` on every response and in every log line of the request."""
import contextvars
import logging
import uuid
from urllib.parse import unquote

current_request_id = contextvars.ContextVar("request_id", default="-")


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = new_request_id()
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["x-openstack-request-id"] = request_id
        response["X-Compute-Request-Id"] = request_id
        return response


class RejectNulMiddleware:
    """A NUL in the path or query string is a 400: PostgreSQL cannot even compare with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            # imported on use: this module loads with cloudproj.celery, before Django is set up
            from cloudproj.api.errors import json_error

            return json_error(400, "NUL characters are not allowed in URLs.")
        return self.get_response(request)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True
