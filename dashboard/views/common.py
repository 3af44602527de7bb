"""What every dashboard view shares: login required, the request context (`request.ctx`), and
errors from services or policy rendered as readable pages or messages, never tracebacks."""
import functools
import re

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from rest_framework.exceptions import APIException

from cloudproj.exceptions import CloudError

from .. import preferences
from ..context import context_for


def error_status(exc) -> int | None:
    """The HTTP status of a service or policy error (None: not one of ours)."""
    if isinstance(exc, CloudError):
        return exc.code
    if isinstance(exc, APIException):
        return exc.status_code
    if isinstance(exc, Http404):
        return 404
    return None


# an exception class name some API messages start with, as the OpenStack services word them
# ("VolumeSizeExceedsAvailableQuota: Requested volume ..."): the API keeps it, a person need not read it
_CLASS_PREFIX = re.compile(r"^[A-Z][a-z]+(?:[A-Z][a-z]*)+: (?=\S)")


def error_message(exc) -> str:
    if isinstance(exc, APIException):
        text = str(exc.detail)
    else:
        text = getattr(exc, "message", None) or str(exc) or "The request could not be completed."
    return _CLASS_PREFIX.sub("", text, count=1)


def error_page(request, status: int, message: str):
    titles = {403: "Not allowed", 404: "Not found", 409: "Not possible now", 410: "Gone", 503: "Unavailable"}
    context = {"status": status, "title": titles.get(status, "Request failed"), "message": message}
    return render(request, "dashboard/error.html", context, status=status)


def dashboard_view(view):
    """Login required; `request.ctx` is the API's RequestContext for the chosen project. A
    404/403 from a service or from `enforce` becomes an error page with that status."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"/dashboard/login/?{urlencode({'next': request.get_full_path()})}")
        request.ctx = context_for(request)
        if not request.ctx.roles:
            return error_page(request, 403, "Your account has no role in any project. Ask an administrator "
                                            "to give you a role in a project.")
        preferences.activate(request)  # the user's page size and time zone
        try:
            return view(request, *args, **kwargs)
        except (CloudError, APIException, Http404) as exc:
            status = error_status(exc)
            if status in (403, 404) or request.method == "GET":
                return error_page(request, status, error_message(exc))
            flash_error(request, exc)  # a form post the view did not handle: say why, go back
            return back(request, "/dashboard/")
        finally:
            timezone.deactivate()

    return wrapper


def back(request, fallback: str):
    """Redirect to the page the form came from (same site only), else `fallback`."""
    target = request.POST.get("next") or request.headers.get("Referer") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return redirect(target)


def next_or(request, fallback: str):
    """Redirect to the form's own `next` (same site only: a detail page that posts to a list's
    action), else `fallback`."""
    target = request.POST.get("next") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return redirect(target)


def flash_error(request, exc) -> None:
    messages.error(request, error_message(exc))
