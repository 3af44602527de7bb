"""The EC2 Query endpoint: one URL, the action and its parameters in the query string (GET) or
a form body (POST). Each request is authenticated by its signature (auth.py), scoped to the
credential's user and project with that user's roles there (the same policy rules as the
OpenStack APIs), runs one action of ec2.services.actions in a transaction and answers EC2's
XML, or EC2's error document with a 4xx (5xx only for a real fault)."""
import logging
import uuid
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from cloudproj.exceptions import CloudError
from ec2.services import actions
from ec2.services.errors import Ec2Error, from_cloud_error, invalid_value, missing
from ec2.services.params import Params
from identity.services.context import RequestContext, effective_roles
from rest_framework.exceptions import APIException

from . import auth, xml

log = logging.getLogger(__name__)

# The versions answered: today's (boto3, the aws CLI) and those of the seeds' era (euca2ools).
VERSIONS = ("2009-04-04", "2009-11-30", "2010-08-31", "2010-11-15", "2011-01-01", "2011-12-15", "2012-06-01",
            "2013-10-15", "2014-10-01", "2015-10-01", "2016-11-15")
MAX_PARAMS = 2000
AWS_AUTH_PARAMS = {"AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp", "Expires",
                   "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                   "X-Amz-Signature", "X-Amz-Security-Token"}


def _pairs(text: str, what: str) -> dict:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_PARAMS)
    except ValueError:
        raise invalid_value(f"Too many parameters in the {what}.") from None
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise invalid_value(f"The parameter {key[:64]} is given more than once.")
        if "\x00" in key or "\x00" in value:
            raise invalid_value("Parameters cannot contain NUL characters.")
        found[key] = value
    return found


def _read(request) -> tuple[bytes, dict, dict]:
    """(body, query parameters, all parameters)."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise Ec2Error("RequestLimitExceeded", "The request body is too large.") from None
    query = _pairs(request.META.get("QUERY_STRING", ""), "query string")
    params = dict(query)
    if request.method == "POST" and body:
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type not in ("application/x-www-form-urlencoded", ""):
            raise invalid_value("The body must be application/x-www-form-urlencoded.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_value("The body is not UTF-8.") from None
        for key, value in _pairs(text, "body").items():
            if key in params:
                raise invalid_value(f"The parameter {key[:64]} is given more than once.")
            params[key] = value
    return body, query, params


def _answer(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/xml;charset=UTF-8")


def _error(exc: Ec2Error, request_id: str) -> HttpResponse:
    return _answer(xml.error(exc.code, exc.message, request_id), exc.status)


class _RollBack(Exception):
    pass


def _dry_run(handler, ctx, params, action_name: str):
    """DryRun: the action runs (its checks, policy and quota included) and is rolled back; messages
    to hosts, sent on commit, never leave. Raises DryRunOperation, or the error the action met."""
    if action_name not in actions.OWN_TRANSACTIONS:
        try:
            with transaction.atomic():
                handler(ctx, params)
                raise _RollBack
        except _RollBack:
            pass
    raise Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


@csrf_exempt
def endpoint(request):
    request_id = str(uuid.uuid4())
    action_name = "-"
    try:
        if request.method not in ("GET", "POST"):
            raise Ec2Error("InvalidAction", f"The method {request.method[:16]} is not allowed here; use GET or POST.",
                           405)
        body, query, flat = _read(request)
        credential = auth.authenticate(request, body, query, flat)
        action_name = flat.get("Action") or ""
        if not action_name:
            raise missing("Action")
        version = flat.get("Version") or ""
        if not version:
            raise missing("Version")
        if version not in VERSIONS:
            raise Ec2Error("NoSuchVersion", f"An invalid or unrecognized API version was specified: {version[:32]}")
        handler = actions.ACTIONS.get(action_name)
        if handler is None:
            raise Ec2Error("InvalidAction", f"The action {action_name[:64]} is not valid for this web service.")
        params = Params({k: v for k, v in flat.items() if k not in AWS_AUTH_PARAMS | {"Action", "Version"}})
        ctx = RequestContext(user=credential.user, project=credential.project,
                             roles=effective_roles(credential.user, credential.project),
                             request_id=getattr(request, "request_id", f"req-{request_id}"))
        ctx.ec2_endpoint = request.build_absolute_uri(request.path)  # type: ignore[attr-defined]
        if not ctx.roles:
            raise Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.", 403)
        dry_run = params.flag("DryRun")
        params.flat.pop("DryRun", None)
        if dry_run:
            _dry_run(handler, ctx, params, action_name)
        if action_name in actions.OWN_TRANSACTIONS:
            result = handler(ctx, params)
        else:
            with transaction.atomic():
                result = handler(ctx, params)
        return _answer(xml.response(action_name, version, request_id, result))
    except Ec2Error as exc:
        return _error(exc, request_id)
    except (CloudError, APIException) as exc:
        return _error(from_cloud_error(exc, actions.NOT_FOUND_CODES.get(action_name, "InvalidParameterValue")),
                      request_id)
    except Exception:  # a fault of ours: logged with its trace, answered in EC2's shape
        log.exception("EC2 %s failed (request %s)", action_name[:64], request_id)
        return _error(Ec2Error("InternalError", "An internal error has occurred.", 500), request_id)
