"""The user's own settings (issue 20): rows per table page and the time zone the dashboard shows
times in. Stored per user (dashboard.models.UserSettings); only the user changes their own."""
import zoneinfo

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from ..models import PAGE_SIZE_MAX, PAGE_SIZE_MIN, UserSettings
from .common import dashboard_view

PAGE = "/dashboard/settings/"


def _zones() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
            if "/" in name or name == "UTC"]


ZONES = _zones()  # the host's tzdata, read once


class SettingsForm(forms.ModelForm):
    page_size = forms.IntegerField(min_value=PAGE_SIZE_MIN, max_value=PAGE_SIZE_MAX, label="Rows per page",
                                   help_text=f"Every table shows this many rows a page ({PAGE_SIZE_MIN} to "
                                             f"{PAGE_SIZE_MAX}).")
    timezone = forms.ChoiceField(choices=ZONES, label="Time zone",
                                      help_text="Times on every page are shown in this zone.")

    class Meta:
        model = UserSettings
        fields = ("page_size", "timezone")


@dashboard_view
def user_settings(request):
    current = request.dashboard_settings  # the saved row, or the defaults
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST":
        if form.is_valid():
            saved = form.save(commit=False)
            saved.user = request.user
            UserSettings.objects.update_or_create(
                user=request.user, defaults={"page_size": saved.page_size, "timezone": saved.timezone})
            messages.success(request, f"Settings saved: {saved.page_size} rows per page, times in "
                                      f"{saved.timezone}.")
            return redirect(PAGE)
    return render(request, "dashboard/settings.html", {"form": form, "zones": ZONES},
                  status=400 if form.errors else 200)
