"""Periodic console housekeeping (beat: purge-expired-console-tokens)."""
from celery import shared_task

from cloudproj import task_names as names

from consoles.services import vnc


@shared_task(name=names.PURGE_EXPIRED_CONSOLE_TOKENS)
def purge_expired_tokens() -> int:
    """Delete console tokens past their expiry (they can never open a console again)."""
    return vnc.purge_expired()
