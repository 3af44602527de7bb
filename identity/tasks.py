"""Periodic identity housekeeping (thin tasks; the work is in identity.services.quotas and .tokens)."""
from celery import shared_task

from cloudproj import task_names as names

from identity.services import quotas, tokens


@shared_task(name=names.EXPIRE_QUOTA_RESERVATIONS)
def expire_quota_reservations() -> int:
    """Roll back quota reservations whose request died before committing them."""
    return quotas.expire_reservations()


@shared_task(name=names.PURGE_EXPIRED_TOKENS)
def purge_expired_tokens() -> int:
    """Delete tokens that expired more than a day ago (they can never validate again)."""
    return tokens.purge_expired()


@shared_task(name=names.REFRESH_QUOTA_USAGES)
def refresh_quota_usages() -> int:
    """Recount quota usage from the real resources; returns how many rows were fixed."""
    from identity.services import usage_refresh

    return len(usage_refresh.refresh())
