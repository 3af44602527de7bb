"""Shared parts of the Networking API v2.0 (`/network`): Neutron's error envelope, the base
view, list helpers and the timestamp format. Neutral: imports no app, so network, secgroups
and floating build their Neutron views on it without importing one another.

Errors. Every error answer is Neutron's envelope::

    {"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}

`type` is the error's name (a service error's class name, e.g. `NetworkInUse`, or the generic
name of its status: `HTTPNotFound`, `PolicyNotAuthorized`, `MalformedRequestBody`, ...); the
status codes are Neutron's: 400 bad input/filters, 401 no or bad token, 403 policy, 404 unknown
resource or URL, 405 method, 409 conflict (also over quota, as Neutron), 503 unavailable.

Lists (`list_response`). Neutron's query parameters, all applied on the server side:
- filters: `?<attribute>=<value>`, repeatable (any of the values matches); booleans as
  `true`/`false` (also 1/0, case-insensitive); a filter on an attribute the resource does not
  have is a 400 (`HTTPBadRequest`, like Neutron's `filter-validation`); a view may add custom
  matchers (e.g. ports' `fixed_ips=ip_address=10.0.0.3`);
- `fields=a&fields=b`: only those attributes in each item;
- `sort_key`/`sort_dir` (repeatable, asc/desc); `limit`/`marker` (the id of the last item seen)
  with `<collection>_links` [{"rel": "next", "href": ...}] when more items follow
  (`page_reverse` is not supported and ignored).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from cloudproj.exceptions import CloudError

log = logging.getLogger(__name__)

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: the generic error type of each status (when no more precise name is known)
STATUS_TYPES = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "PolicyNotAuthorized",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    406: "HTTPNotAcceptable",
    409: "HTTPConflict",
    413: "HTTPRequestEntityTooLarge",
    415: "HTTPUnsupportedMediaType",
    500: "HTTPInternalServerError",
    501: "HTTPNotImplemented",
    503: "HTTPServiceUnavailable",
}
#: the base CloudError classes whose names say nothing more than the status
_GENERIC_NAMES = {"CloudError", "Invalid", "NotFound", "Conflict", "Forbidden", "ServiceUnavailable"}

TRUE_STRINGS = {"1", "t", "true", "on", "y", "yes"}
FALSE_STRINGS = {"0", "f", "false", "off", "n", "no"}
RESERVED_PARAMS = {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"}
MAX_LIMIT = 1000


class NeutronError(exceptions.APIException):
    """An error with an explicit Neutron type: raise NeutronError(409, "NetworkInUse", "...")."""

    def __init__(self, status_code: int, error_type: str | None, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type or STATUS_TYPES.get(status_code, "HTTPBadRequest")
        self.message = message


def bad_request(message: str, error_type: str = "HTTPBadRequest") -> NeutronError:
    return NeutronError(400, error_type, message)


def not_found(message: str, error_type: str = "HTTPNotFound") -> NeutronError:
    return NeutronError(404, error_type, message)


def conflict(message: str, error_type: str = "HTTPConflict") -> NeutronError:
    return NeutronError(409, error_type, message)


def forbidden(message: str = "Policy doesn't allow this operation to be performed.",
              error_type: str = "PolicyNotAuthorized") -> NeutronError:
    return NeutronError(403, error_type, message)


def envelope(error_type: str, message: str, detail: str = "") -> dict:
    return {"NeutronError": {"type": error_type, "message": message, "detail": detail}}


def json_error(status_code: int, message: str, error_type: str | None = None) -> JsonResponse:
    error_type = error_type or STATUS_TYPES.get(status_code, "HTTPBadRequest")
    return JsonResponse(envelope(error_type, message), status=status_code)


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(_flatten(v) if k in ("non_field_errors", "detail") else f"{k}: {_flatten(v)}"
                         for k, v in detail.items())
    if isinstance(detail, (list, tuple)):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def error_of(exc: Exception) -> tuple[int, str, str] | None:
    """(status, type, message) of an exception a view raised; None for a real bug (a 500)."""
    if isinstance(exc, NeutronError):
        return exc.status_code, exc.error_type, exc.message
    if isinstance(exc, CloudError):
        name = type(exc).__name__
        status_code = exc.code
        if any(cls.__name__ == "OverQuota" for cls in type(exc).__mro__):
            return 409, "OverQuota", exc.message  # Neutron answers 409 for quota
        if name in _GENERIC_NAMES:
            name = {400: "InvalidInput", 404: "HTTPNotFound", 409: "HTTPConflict",
                    403: "PolicyNotAuthorized"}.get(status_code, STATUS_TYPES.get(status_code, name))
        return status_code, name, exc.message
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return 404, "HTTPNotFound", str(exc) or "The resource could not be found."
    if isinstance(exc, DjangoPermissionDenied):
        return 403, "PolicyNotAuthorized", "Policy doesn't allow this operation to be performed."
    if isinstance(exc, (OperationalError, InterfaceError)):
        log.warning("database unavailable: %s", exc)
        return 503, "HTTPServiceUnavailable", "The database is unavailable; try again later."
    if isinstance(exc, DatabaseError):
        log.exception("database error")
        return 500, "HTTPInternalServerError", "Unexpected database error."
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return 401, "HTTPUnauthorized", "Authentication required: " + _flatten(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return 400, "MalformedRequestBody", "Malformed request body: " + _flatten(exc.detail)
    if isinstance(exc, exceptions.ValidationError):
        return 400, "InvalidInput", "Invalid input for operation: " + _flatten(exc.detail)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, "HTTPMethodNotAllowed", _flatten(exc.detail)
    if isinstance(exc, exceptions.PermissionDenied):
        return 403, "PolicyNotAuthorized", _flatten(exc.detail)
    if isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        # the project's own API errors (policy's Forbidden/NotFound, ...) keep their status
        return status_code, STATUS_TYPES.get(status_code, "HTTPBadRequest"), _flatten(exc.detail)
    return None


def timestamp(value: datetime | None) -> str | None:
    """Neutron's timestamp form, UTC: 2026-12-07T04:46:53Z."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(TIMESTAMP_FORMAT)


def network_base(request) -> str:
    """Absolute URL of the Networking API root, e.g. http://h:8000/network (no slash)."""
    if settings.PUBLIC_ENDPOINT:
        return settings.PUBLIC_ENDPOINT.rstrip("/") + "/network"
    return request.build_absolute_uri("/network").rstrip("/")


class NeutronAPIView(APIView):
    """Base view of the Networking API: Keystone token (X-Auth-Token), `self.ctx` the policy
    context (RequestContext), JSON only, and Neutron's envelope for every error (401, 403,
    404, 405, 400 for bad JSON included)."""

    @property
    def ctx(self):
        return self.request.auth

    def handle_exception(self, exc):
        error = error_of(exc)
        if error is None:
            return super().handle_exception(exc)  # a bug: Django logs it, handler500 answers
        status_code, error_type, message = error
        headers = {}
        if status_code == 401:
            headers["WWW-Authenticate"] = 'Keystone uri="/identity"'
        response = Response(envelope(error_type, message), status=status_code, headers=headers)
        response.exception = True
        return response

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated("The request you have made requires authentication.")
        raise forbidden(message or "Policy doesn't allow this operation to be performed.")

    # --- request bodies -------------------------------------------------------------------

    def body(self, key: str, allowed: Iterable[str] | None = None, required: Iterable[str] = ()) -> dict:
        """request.data[key] as a dict; 400 for a missing key, unknown or missing attributes."""
        data = self.request.data
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            raise bad_request(f"Resource body required: a JSON object with the key '{key}'.")
        inner = data[key]
        if allowed is not None:
            unknown = sorted(set(inner) - set(allowed))
            if unknown:
                raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'", "HTTPBadRequest")
        missing = sorted(set(required) - set(inner))
        if missing:
            raise bad_request(f"Failed to parse request. Required attribute '{missing[0]}' not specified",
                              "HTTPBadRequest")
        return inner


# --- list helpers -----------------------------------------------------------------------

def parse_bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
        return value.strip().lower() in TRUE_STRINGS
    raise bad_request(f"Invalid input for {field}. Reason: '{value}' cannot be converted to boolean.",
                      "InvalidInput")


def _matches(actual, wanted: list[str], field: str) -> bool:
    if isinstance(actual, bool):
        return actual in {parse_bool(w, field) for w in wanted}
    if isinstance(actual, (list, tuple)):  # e.g. security_groups: any element matches
        return any(str(item) in wanted for item in actual)
    if actual is None:
        return any(w in ("", "None", "null") for w in wanted)
    return str(actual) in wanted


Matcher = Callable[[dict, list[str]], bool]


def filter_items(items: list[dict], query, custom: dict[str, Matcher] | None = None,
                 ignored: Iterable[str] = ()) -> list[dict]:
    """Server-side filters of a Neutron list (`query` is request.query_params)."""
    custom = custom or {}
    ignored = set(ignored)
    keys = [k for k in query if k not in RESERVED_PARAMS and k not in ignored]
    if not keys:
        return items
    known = set(custom)
    for item in items:
        known.update(item)
    unknown = sorted(k for k in keys if k not in known and items)
    if unknown:
        raise bad_request(f"{unknown} is invalid attribute for filtering")
    result = []
    for item in items:
        ok = True
        for key in keys:
            wanted = query.getlist(key)
            if key in custom:
                ok = custom[key](item, wanted)
            else:
                ok = key in item and _matches(item[key], wanted, key)
            if not ok:
                break
        if ok:
            result.append(item)
    return result


def _sort_value(value):
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float):
        return (1, value)
    return (2, str(value))


def sort_items(items: list[dict], query) -> list[dict]:
    keys, dirs = query.getlist("sort_key"), query.getlist("sort_dir")
    if not keys:
        if dirs:
            raise bad_request("The number of sort_keys and sort_dirs must be same")
        return items
    if dirs and len(dirs) != len(keys):
        raise bad_request("The number of sort_keys and sort_dirs must be same")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise bad_request(f"{direction} is invalid value for sort_dirs, valid values are 'asc' and 'desc'")
    dirs = dirs or ["asc"] * len(keys)
    for key in keys:
        if items and key not in items[0]:
            raise bad_request(f"{key} is invalid attribute for sort_keys")
    result = list(items)
    for key, direction in reversed(list(zip(keys, dirs, strict=True))):  # stable: last key first
        result.sort(key=lambda item, key=key: _sort_value(item.get(key)), reverse=direction == "desc")
    return result


def _limit(query) -> int | None:
    raw = query.get("limit")
    if raw in (None, ""):
        return None
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(f"Bad limit request: Limit must be an integer 0 or greater and not '{raw}'") from None
    if limit < 0:
        raise bad_request(f"Bad limit request: Limit must be an integer 0 or greater and not '{raw}'")
    return min(limit, MAX_LIMIT) if limit else None


def select_fields(item: dict, fields: list[str]) -> dict:
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}


def list_response(request, collection: str, items: list[dict], custom: dict[str, Matcher] | None = None,
                  ignored: Iterable[str] = ()) -> Response:
    """Filter, sort, page and cut `items` (full resource dicts, each with an `id`) as Neutron
    does, and answer {collection: [...], collection_links: [...]}."""
    query = request.query_params
    items = filter_items(items, query, custom, ignored)
    items = sort_items(items, query)
    limit, marker = _limit(query), query.get("marker")
    links = []
    if marker:
        ids = [str(item.get("id")) for item in items]
        if marker not in ids:
            raise not_found(f"Marker {marker} could not be found.", "HTTPNotFound")
        start = ids.index(marker) + 1
        items = items[start:]
    if limit is not None and len(items) > limit:
        items = items[:limit]
        links.append({"rel": "next", "href": _page_url(request, collection, items[-1]["id"], limit)})
    fields = query.getlist("fields")
    body = {collection: [select_fields(item, fields) for item in items]}
    if links:
        body[f"{collection}_links"] = links
    return Response(body)


def _page_url(request, collection: str, marker, limit: int) -> str:
    params = [(k, v) for k in request.query_params if k not in ("marker", "limit", "page_reverse")
              for v in request.query_params.getlist(k)]
    params += [("limit", str(limit)), ("marker", str(marker))]
    return f"{network_base(request)}/v2.0/{collection}?{urlencode(params)}"


def show_response(request, key: str, item: dict) -> Response:
    """{key: item}, cut to `fields=` if given."""
    return Response({key: select_fields(item, request.query_params.getlist("fields"))})


def handler404(request, exception=None) -> JsonResponse:
    return json_error(404, "The resource could not be found.", "HTTPNotFound")
