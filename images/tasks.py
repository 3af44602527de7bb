"""Periodic image housekeeping (thin tasks; the work is in images.services.registry)."""
from celery import shared_task
from django.conf import settings

from images.services import registry


@shared_task(name="images.reap_stalled_uploads")
def reap_stalled_uploads() -> int:
    """Uploads whose API process died leave images `saving`: kill them (never active)."""
    return len(registry.reap_stalled_uploads(settings.IMAGE_UPLOAD_MAX_IDLE))
