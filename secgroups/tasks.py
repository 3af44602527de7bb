"""Thin Celery tasks of the secgroups app; they run on compute.<host> (the agent of <host>).

Sent by cloudproj.rpc.refresh_instance_security_groups(host, uuid).
"""
from celery import shared_task

from cloudproj import task_names as names
from cloudproj.host import identity

from .services import host as host_service


@shared_task(name=names.REFRESH_INSTANCE_SECURITY_GROUPS, acks_late=True)
def refresh_instance(instance_uuid: str) -> str:
    """Re-apply the instance's security group chain on this host from the DB."""
    return host_service.refresh_instance(instance_uuid, identity.current_host())

