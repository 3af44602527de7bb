"""Thin Celery tasks of the floating app; they run on `network.<host>` (the agent of <host>)."""
from celery import shared_task

from cloudproj import task_names as names
from cloudproj.host.identity import current_host

from .services import host as host_service


@shared_task(name=names.SYNC_FLOATING_IPS, acks_late=True)
def sync_host(host: str | None = None) -> dict:
    """Regenerate this host's floating NAT (chains and addresses) from the DB."""
    return host_service.sync_host(host or current_host())
