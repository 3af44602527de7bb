"""A user's dashboard settings for this request: read once by `dashboard_view`, which also
activates the user's time zone so every `{{ value|date }}` and `{% localtime %}` shows it."""
import zoneinfo

from django.conf import settings
from django.utils import timezone

from .models import UserSettings


def load(request) -> UserSettings:
    """The user's settings, or the defaults (not saved) when they never changed them."""
    found = UserSettings.objects.filter(user_id=request.user.pk).first()
    return found or UserSettings(user_id=request.user.pk, page_size=settings.DASHBOARD_PAGE_SIZE, timezone="UTC")


def activate(request) -> UserSettings:
    prefs = request.dashboard_settings = load(request)
    try:
        timezone.activate(zoneinfo.ZoneInfo(prefs.timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a zone the host's tzdata no longer has
        timezone.deactivate()
    return prefs


def page_size_of(request) -> int:
    prefs = getattr(request, "dashboard_settings", None)
    return prefs.page_size if prefs is not None else settings.DASHBOARD_PAGE_SIZE
