"""Common behaviour of every Compute v2.1 view: microversion negotiation (MIN_VERSION up to
MAX_VERSION, compared through `api_version(request) >= (2, n)`), the response headers that echo
the negotiated version, OpenStack error envelopes for compute
errors, absolute links and small request-body validation helpers."""
import re
from urllib.parse import urlencode

from django.conf import settings
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.views import APIView

from cloudproj.api.errors import BadRequest, Conflict, NotFound
from cloudproj.exceptions import CloudError
from cloudproj.exceptions import Conflict as ComputeConflict
from cloudproj.exceptions import Invalid as ComputeInvalid
from cloudproj.exceptions import NotFound as ComputeNotFound

MIN_VERSION = "2.1"
MAX_VERSION = "2.19"
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)\Z")
MAX_INT = 0x7FFFFFFF
TRUE_STRINGS = {"1", "t", "true", "on", "y", "yes"}
FALSE_STRINGS = {"0", "f", "false", "off", "n", "no"}


class NotAcceptable(exceptions.APIException):
    status_code = 406
    default_detail = "Version not supported."


def _as_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def api_version(request) -> tuple[int, int]:
    """The negotiated compute microversion of `request` as a comparable tuple, e.g. (2, 3).

    Views compare through this one helper: `if api_version(request) >= (2, 3): ...`."""
    return _as_tuple(getattr(request, "compute_microversion", None) or MIN_VERSION)


def requested_microversion(request) -> str:
    """The compute microversion asked for (default 2.1); 400 if malformed, 406 if unsupported."""
    value = None
    header = request.headers.get("OpenStack-API-Version")
    if header:
        for item in header.split(","):
            parts = item.strip().split()
            if len(parts) == 2 and parts[0].lower() == "compute":
                value = parts[1]
    if value is None:
        value = request.headers.get("X-OpenStack-Nova-API-Version")
    if value is None:
        return MIN_VERSION
    value = value.strip()
    if value.lower() == "latest":
        return MAX_VERSION
    if not _VERSION_RE.match(value):
        raise BadRequest(f"API Version String {value} is of invalid format. Must be of format MajorNum.MinorNum.")
    if not _as_tuple(MIN_VERSION) <= _as_tuple(value) <= _as_tuple(MAX_VERSION):
        raise NotAcceptable(
            f"Version {value} is not supported by the API. Minimum is {MIN_VERSION} and maximum is {MAX_VERSION}."
        )
    return value


def compute_base(request) -> str:
    """Absolute URL of the compute API root, e.g. http://h:8000/compute (no trailing slash)."""
    if settings.PUBLIC_ENDPOINT:
        return settings.PUBLIC_ENDPOINT.rstrip("/") + "/compute"
    return request.build_absolute_uri("/compute").rstrip("/")


def links(request, collection: str, item_id) -> list[dict]:
    base = compute_base(request)
    return [
        {"rel": "self", "href": f"{base}/v2.1/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{base}/{collection}/{item_id}"},
    ]


def isotime(value) -> str | None:
    """Nova's service timestamp format: 2012-10-29T13:42:02.000000 (UTC, naive)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


class ComputeAPIView(APIView):
    """Base view of the compute API."""

    check_microversion = True

    @property
    def ctx(self):
        return self.request.auth

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.check_microversion:
            request.compute_microversion = requested_microversion(request)

    def handle_exception(self, exc):
        if isinstance(exc, CloudError):
            mapping = {ComputeNotFound: NotFound, ComputeConflict: Conflict, ComputeInvalid: BadRequest}
            mapped = next((api(exc.message) for cls, api in mapping.items() if isinstance(exc, cls)), None)
            if mapped is None:  # Forbidden/OverQuota 403, ServiceUnavailable 503, NoValidHost ...
                mapped = exceptions.APIException(exc.message)
                mapped.status_code = exc.code
            exc = mapped
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # the negotiated version (not the maximum); MIN_VERSION when negotiation did not happen
        version = getattr(request, "compute_microversion", None) or MIN_VERSION
        response["OpenStack-API-Version"] = f"compute {version}"
        response["X-OpenStack-Nova-API-Version"] = version
        patch_vary_headers(response, ["OpenStack-API-Version", "X-OpenStack-Nova-API-Version"])
        return response

    # --- request bodies -------------------------------------------------------------------

    def body(self, key: str, allowed: set | None = None, required: set = frozenset()) -> dict:
        """request.data[key] as a dict; 400 for a missing/extra key or missing required fields."""
        data = self.request.data
        if not isinstance(data, dict) or key not in data:
            raise BadRequest(f"Invalid input: '{key}' is a required property.")
        extra = set(data) - {key}
        if extra:
            raise BadRequest(f"Invalid input: additional properties are not allowed ({', '.join(sorted(extra))}).")
        inner = data[key]
        if not isinstance(inner, dict):
            raise BadRequest(f"Invalid input for field/attribute {key}: must be an object.")
        missing = sorted(set(required) - set(inner))
        if missing:
            raise BadRequest(f"Invalid input for field/attribute {key}: '{missing[0]}' is a required property.")
        if allowed is not None:
            unknown = sorted(set(inner) - set(allowed))
            if unknown:
                raise BadRequest(
                    f"Invalid input for field/attribute {key}: additional properties are not allowed "
                    f"({', '.join(unknown)})."
                )
        return inner


def parse_int(value, field: str, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """An integer, or a string of digits (as nova's flavor parameters allow)."""
    if isinstance(value, bool):
        raise BadRequest(f"Invalid input for field/attribute {field}: {value!r} is not an integer.")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise BadRequest(f"Invalid input for field/attribute {field}: {value!r} is not an integer.")
    if not minimum <= value <= maximum:
        raise BadRequest(f"Invalid input for field/attribute {field}: must be between {minimum} and {maximum}.")
    return value


MAX_LIMIT = 1000  # Nova's osapi max_limit


def marker_page(request, rows, key, path: str) -> tuple[list, list]:
    """Nova's limit/marker paging over `rows` (newest first): (the page, its next links). `marker`
    is key(row) of the last row seen (unknown: 400); `limit` at most MAX_LIMIT; a full page links
    to the next one (`path` under v2.1, the query kept)."""
    params = request.query_params
    rows = list(rows)
    if "marker" in params:
        index = next((i for i, row in enumerate(rows) if key(row) == params["marker"]), None)
        if index is None:
            raise BadRequest(f"Marker {params['marker']} could not be found.")
        rows = rows[index + 1:]
    limit = min(parse_int(params["limit"], "limit", 0), MAX_LIMIT) if "limit" in params else MAX_LIMIT
    page = rows[:limit]
    if not page or len(page) < limit:
        return page, []
    query = urlencode({**params.dict(), "limit": limit, "marker": key(page[-1])})
    return page, [{"rel": "next", "href": f"{compute_base(request)}/v2.1/{path}?{query}"}]


def parse_bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
        return value.strip().lower() in TRUE_STRINGS
    raise BadRequest(f"Invalid input for field/attribute {field}: {value!r} is not a boolean.")


def parse_string(value, field: str, min_length: int = 1, max_length: int = 255) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field/attribute {field}: {value!r} is not a string.")
    if not min_length <= len(value) <= max_length:
        raise BadRequest(
            f"Invalid input for field/attribute {field}: length must be between {min_length} and {max_length}."
        )
    return value
