"""Thin Celery tasks of the secgroups app; they run on compute.<host> (the agent of <host>).

Send them with compute.rpc.to_host(host, "secgroups.refresh_instance", uuid).
"""
from celery import shared_task

from cloudproj.host import identity

from .services import host as host_service


@shared_task(name="secgroups.refresh_instance", acks_late=True)
def refresh_instance(instance_uuid: str) -> str:
    """Re-apply the instance's security group chain on this host from the DB."""
    return host_service.refresh_instance(instance_uuid, identity.current_host())

