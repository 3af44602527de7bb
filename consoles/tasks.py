"""Periodic console housekeeping (beat: purge-expired-console-tokens)."""
from celery import shared_task

from . import services


@shared_task(name="consoles.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Delete console tokens past their expiry (they can never open a console again)."""
    return services.purge_expired()
