"""The dashboard's own data: each user's settings (issue 20)."""
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

PAGE_SIZE_MIN, PAGE_SIZE_MAX = 5, 200


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value} is not a known time zone (IANA names such as Europe/Paris).")


class UserSettings(models.Model):
    """Rows per page of every table and the time zone the dashboard shows times in."""
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard_settings")
    page_size = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(PAGE_SIZE_MIN), MaxValueValidator(PAGE_SIZE_MAX)])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    def __str__(self) -> str:
        return f"settings of {self.user_id}"
