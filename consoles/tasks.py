"""Periodic console housekeeping (beat: purge-expired-console-tokens)."""
from celery import shared_task

from consoles.services import vnc


@shared_task(name="consoles.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Delete console tokens past their expiry (they can never open a console again)."""
    return vnc.purge_expired()
