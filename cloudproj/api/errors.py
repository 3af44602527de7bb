"""OpenStack error envelopes for every API error, and the exceptions views raise.

Compute, Image and Block Storage use `{"<name>": {"code": N, "message": "..."}}`;
Identity (Keystone) uses `{"error": {"code": N, "message": "...", "title": "..."}}`.
A view picks the Keystone shape with `error_style = "keystone"`.
"""
import logging
import sys

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from rest_framework import exceptions, status
from rest_framework.response import Response

log = logging.getLogger(__name__)

FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    411: "lengthRequired",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    500: "computeFault",
    501: "notImplemented",
    503: "serviceUnavailable",
}
KEYSTONE_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class BadRequest(exceptions.APIException):
    status_code = 400
    default_detail = "Invalid request."


class Unauthorized(exceptions.APIException):
    status_code = 401
    default_detail = "The request you have made requires authentication."


class Forbidden(exceptions.APIException):
    status_code = 403
    default_detail = "Policy doesn't allow this operation to be performed."


class NotFound(exceptions.APIException):
    status_code = 404
    default_detail = "The resource could not be found."


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "There was a conflict when trying to complete your request."


class OverLimit(exceptions.APIException):
    status_code = 413
    default_detail = "Quota exceeded."


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "The service is unavailable; try again later."


def envelope(status_code: int, message: str, style: str = "openstack") -> dict:
    if style == "keystone":
        title = KEYSTONE_TITLES.get(status_code, "Error")
        return {"error": {"code": status_code, "message": message, "title": title}}
    name = FAULT_NAMES.get(status_code, "computeFault" if status_code >= 500 else "badRequest")
    return {name: {"code": status_code, "message": message}}


def json_error(status_code: int, message: str, style: str = "openstack") -> JsonResponse:
    return JsonResponse(envelope(status_code, message, style), status=status_code)


def _flatten(detail) -> str:
    """Turn DRF's nested error details into one readable sentence."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _flatten(value)
            parts.append(text if field in ("non_field_errors", "detail") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, (list, tuple)):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def _message_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Invalid input for field/attribute: " + _flatten(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return "Malformed request body: " + _flatten(exc.detail)
    return _flatten(exc.detail)


def exception_handler(exc, context):
    view = context.get("view")
    style = getattr(view, "error_style", "openstack")
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = Forbidden()
    elif isinstance(exc, (OperationalError, InterfaceError)):
        log.warning("database unavailable: %s", exc)
        exc = ServiceUnavailable(DATABASE_DOWN)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        exc = Unauthorized(_flatten(exc.detail))
    elif isinstance(exc, DatabaseError):
        log.exception("database error")
        return Response(envelope(500, "Unexpected database error.", style), status=500)
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer through handler500
    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        status_code = status.HTTP_400_BAD_REQUEST
    headers = {}
    if status_code == 401:
        headers["WWW-Authenticate"] = 'Keystone uri="/identity"'
    return Response(envelope(status_code, _message_for(exc), style), status=status_code, headers=headers)


def handler404(request, exception=None):
    return json_error(404, "The resource could not be found.")


DATABASE_DOWN = "The database is unavailable; try again later."


def handler500(request):
    """A database that went away (restart, network) is a 503 the client may retry: the
    OpenStack envelope for the APIs, a readable page for the dashboard. Anything else is a
    500."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        if request.path.startswith("/dashboard/"):
            page = render_to_string("dashboard/unavailable.html", {"message": DATABASE_DOWN})
            return HttpResponse(page, status=503, headers={"Retry-After": "10"})
        return JsonResponse(envelope(503, DATABASE_DOWN), status=503, headers={"Retry-After": "10"})
    return json_error(500, "An unexpected error occurred; it has been logged.")


def handler400(request, exception=None):
    return json_error(400, "Bad request.")


def handler403(request, exception=None):
    return json_error(403, "Forbidden.")
