"""Who signed an EC2 request: AWS Signature Version 4 (the Authorization header, or the
`X-Amz-*` query parameters of a presigned URL) and Version 2 (HmacSHA256 or HmacSHA1 over the
parameters), checked against the stored EC2 credentials (identity.models.Ec2Credential).

The server recomputes the signature from what it received and compares in constant time; the
request's time must be within EC2_CLOCK_SKEW seconds (a replay later than that is refused). A
secret never leaves this module and is never logged.
"""
import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote

from django.conf import settings
from django.utils import timezone as dj_timezone

from ec2.services.errors import Ec2Error, auth_failure
from identity.models import Ec2Credential, Region
from identity.services.tokens import domains_enabled

V4_ALGORITHM = "AWS4-HMAC-SHA256"
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600


def _q(text: str) -> str:
    return quote(text, safe="-_.~")


def _expired(message: str = "Request has expired.") -> Ec2Error:
    return Ec2Error("RequestExpired", message)


def check_time(moment: datetime, now: datetime | None = None, expires: int | None = None) -> None:
    """Within the skew of now (or, with `expires` seconds, not past moment + expires)."""
    now = now or dj_timezone.now()
    skew = timedelta(seconds=settings.EC2_CLOCK_SKEW)
    if moment - skew > now:
        raise _expired("Request timestamp is in the future.")
    limit = moment + (timedelta(seconds=expires) if expires is not None else skew)
    if now > limit + (skew if expires is not None else timedelta()):
        raise _expired()


def credential(access: str) -> Ec2Credential:
    row = Ec2Credential.objects.select_related("user", "project").filter(access=access).first() if access else None
    if row is None:
        raise auth_failure()
    if not row.user.is_active or not row.project.enabled or not domains_enabled(row.user.domain_id,
                                                                                row.project.domain_id):
        raise auth_failure()
    return row


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


# --- Signature Version 4 ------------------------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _v4_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def _canonical_query(query_string: str, leave_out: str | None = None) -> str:
    pairs = [(_q(k), _q(v)) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != leave_out]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _header(request, name: str) -> str | None:
    if name == "content-type":
        return request.META.get("CONTENT_TYPE")
    if name == "content-length":
        return request.META.get("CONTENT_LENGTH")
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


def _canonical_headers(request, signed: list[str]) -> str:
    lines = []
    for name in signed:
        value = _header(request, name)
        if value is None:
            raise auth_failure(f"The signed header {name[:64]} is missing from the request.")
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)


def _scope(value: str) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise auth_failure("Credential should be scoped to access key, date, region, service and aws4_request.")
    access, day, region, service, _ = parts
    if service != "ec2":
        raise auth_failure("Credential should be scoped to correct service: 'ec2'.")
    if region != settings.CLOUD_REGION and not Region.objects.filter(id=region).exists():
        raise auth_failure(f"Credential should be scoped to a valid region, not '{region[:64]}'.")
    return access, day, region, service


def _v4_time(value: str | None) -> datetime:
    try:
        return datetime.strptime(value or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise auth_failure("X-Amz-Date is missing or not of the form YYYYMMDDTHHMMSSZ.") from None


def _verify_v4(request, body: bytes, scope: str, signed: list[str], signature: str, moment: datetime,
               payload_hash: str, query: str) -> Ec2Credential:
    access, day, region, service = _scope(scope)
    if day != moment.strftime("%Y%m%d"):
        raise auth_failure("Credential should be scoped to the date of X-Amz-Date.")
    if "host" not in signed:
        raise auth_failure("The host header must be signed.")
    row = credential(access)
    canonical = "\n".join([
        request.method, quote(request.path, safe="/~"), query, _canonical_headers(request, signed),
        ";".join(signed), payload_hash,
    ])
    to_sign = "\n".join([V4_ALGORITHM, moment.strftime("%Y%m%dT%H%M%SZ"), scope.split("/", 1)[1],
                         hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(_v4_key(row.secret, day, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    if not _same(expected, signature):
        raise Ec2Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                       "you provided. Check your AWS Secret Access Key and signing method.", 403)
    return row


def _v4_header(request, body: bytes, header: str) -> Ec2Credential:
    fields = {}
    for part in header[len(V4_ALGORITHM):].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        raise auth_failure("Authorization header requires Credential, SignedHeaders and Signature.")
    moment = _v4_time(request.META.get("HTTP_X_AMZ_DATE"))
    check_time(moment)
    declared = request.META.get("HTTP_X_AMZ_CONTENT_SHA256")
    actual = hashlib.sha256(body).hexdigest()
    if declared not in (None, actual):  # UNSIGNED-PAYLOAD too: a body must be signed
        raise auth_failure("The request body does not match X-Amz-Content-SHA256.")
    signed = fields["SignedHeaders"].split(";")
    return _verify_v4(request, body, fields["Credential"], signed, fields["Signature"], moment, declared or actual,
                      _canonical_query(request.META.get("QUERY_STRING", "")))


def _v4_query(request, body: bytes, query: dict) -> Ec2Credential:
    if query.get("X-Amz-Algorithm") != V4_ALGORITHM:
        raise auth_failure("X-Amz-Algorithm must be AWS4-HMAC-SHA256.")
    if body:
        raise auth_failure("A presigned request has no body (its parameters would not be signed).")
    try:
        expires = int(query.get("X-Amz-Expires", "0"))
    except ValueError:
        raise auth_failure("X-Amz-Expires must be a number of seconds.") from None
    if not 0 < expires <= MAX_PRESIGN_EXPIRES:
        raise auth_failure("X-Amz-Expires must be between 1 and 604800 seconds.")
    moment = _v4_time(query.get("X-Amz-Date"))
    check_time(moment, expires=expires)
    signed = (query.get("X-Amz-SignedHeaders") or "").split(";")
    return _verify_v4(request, body, query.get("X-Amz-Credential", ""), signed, query.get("X-Amz-Signature", ""),
                      moment, hashlib.sha256(body).hexdigest(),
                      _canonical_query(request.META.get("QUERY_STRING", ""), leave_out="X-Amz-Signature"))


# --- Signature Version 2 ------------------------------------------------------------------------

V2_METHODS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}


def _v2_time(params: dict) -> None:
    for name in ("Timestamp", "Expires"):
        value = params.get(name)
        if value is None:
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise auth_failure(f"{name} is not an ISO 8601 time.") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        if name == "Timestamp":
            check_time(moment)
        elif dj_timezone.now() > moment + timedelta(seconds=settings.EC2_CLOCK_SKEW):
            raise _expired()
        return
    raise Ec2Error("MissingParameter", "The request must contain the parameter Timestamp or Expires")


def _v2(request, params: dict) -> Ec2Credential:
    if params.get("SignatureVersion") != "2":
        raise auth_failure("Only signature versions 2 and 4 are accepted.")
    digest = V2_METHODS.get(params.get("SignatureMethod", ""))
    if digest is None:
        raise auth_failure("SignatureMethod must be HmacSHA256 or HmacSHA1.")
    _v2_time(params)
    row = credential(params.get("AWSAccessKeyId", ""))
    pairs = sorted((_q(k), _q(v)) for k, v in params.items() if k != "Signature")
    to_sign = "\n".join([request.method, request.META.get("HTTP_HOST", ""), request.path or "/",
                         "&".join(f"{k}={v}" for k, v in pairs)])
    expected = base64.b64encode(hmac.new(row.secret.encode(), to_sign.encode(), digest).digest()).decode()
    if not _same(expected, params.get("Signature", "")):
        raise Ec2Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                       "you provided. Check your AWS Secret Access Key and signing method.", 403)
    return row


def authenticate(request, body: bytes, query: dict, params: dict) -> Ec2Credential:
    """The credential that signed the request, or an EC2 error (AuthFailure, SignatureDoesNotMatch,
    RequestExpired, MissingAuthenticationToken)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith(V4_ALGORITHM + " "):
        return _v4_header(request, body, header)
    if "X-Amz-Algorithm" in query:
        return _v4_query(request, body, query)
    if "Signature" in params or "AWSAccessKeyId" in params:
        return _v2(request, params)
    raise Ec2Error("MissingAuthenticationToken", "The request must contain either a valid (registered) AWS access "
                   "key ID or X.509 certificate.", 401)
