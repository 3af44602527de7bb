"""The metadata service's one view: the caller is the instance whose fixed IP is the request's
source address (REMOTE_ADDR: guests reach us through the DNAT of 169.254.169.254, which
keeps their address). Anyone else gets 404, for every path; an instance only ever sees its
own data.
"""
import logging
import posixpath

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import ec2, openstack
from ..services import passwords
from ..services.sources import collect, instance_for_address

log = logging.getLogger(__name__)

TEXT = "text/plain; charset=utf-8"


def _tokens(path: str) -> list[str]:
    return [t for t in posixpath.normpath("/" + path).split("/") if t]


def lookup(data, path: str):
    """The value at `path` (Nova's layout: EC2 at the root, OpenStack under /openstack)."""
    tokens = _tokens(path)
    if not tokens:
        return ec2.VERSIONS + [ec2.LATEST]
    if tokens[0] == "openstack":
        if len(tokens) == 1:
            return openstack.VERSIONS + [ec2.LATEST]
        return ec2.find(openstack.version_tree(data, tokens[1]), tokens[2:])
    return ec2.find(ec2.version_tree(data, tokens[0]), tokens[1:])


def _not_found() -> HttpResponse:
    return HttpResponseNotFound("404 Not Found\n", content_type=TEXT)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def metadata(request, path: str = ""):
    instance = instance_for_address(request.META.get("REMOTE_ADDR"))
    if instance is None:
        log.info("metadata request for /%s from %s: no instance has that address", path,
                 request.META.get("REMOTE_ADDR"))
        return _not_found()
    if request.method == "POST":
        return _post_password(request, instance, path)
    try:
        value = lookup(collect(instance), path)
    except ec2.NotFound:
        return _not_found()
    body = ec2.render(value)
    if isinstance(body, bytes):
        content_type = "application/octet-stream"
    elif path.rstrip("/").endswith(".json"):
        content_type = "application/json"
    else:
        content_type = TEXT
    return HttpResponse(body, content_type=content_type)


def _post_password(request, instance, path: str) -> HttpResponse:
    """The guest sets its password once (Nova's metadata password handler)."""
    if not openstack.is_password_path(_tokens(path)):
        return HttpResponseNotAllowed(["GET", "HEAD"], "405 Method Not Allowed\n", content_type=TEXT)
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > passwords.MAX_SIZE:  # not read at all
            raise passwords.PasswordTooLarge(f"Request is too large (at most {passwords.MAX_SIZE} bytes).")
        passwords.post(instance.uuid, request.body)
    except passwords.PasswordExists as exc:
        return HttpResponse(f"409 Conflict: {exc}\n", status=409, content_type=TEXT)
    except passwords.PasswordTooLarge as exc:
        return HttpResponseBadRequest(f"400 Bad Request: {exc}\n", content_type=TEXT)
    log.info("instance %s posted its password", instance.uuid)
    return HttpResponse("", content_type=TEXT)


def handler404(request, exception=None):
    return _not_found()


def handler500(request):
    return HttpResponse("500 Internal Server Error\n", status=500, content_type=TEXT)
