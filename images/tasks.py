"""Periodic image housekeeping (thin tasks; the work is in images.services.registry)."""
from celery import shared_task
from django.conf import settings

from cloudproj import task_names as names

from images.services import registry


@shared_task(name=names.REAP_STALLED_IMAGE_UPLOADS)
def reap_stalled_uploads() -> int:
    """Uploads whose API process died leave images `saving`: kill them (never active)."""
    return len(registry.reap_stalled_uploads(settings.IMAGE_UPLOAD_MAX_IDLE))
