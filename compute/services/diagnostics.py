"""Server diagnostics (`GET /servers/{id}/diagnostics`, admins): asked of the instance's
host, whose hypervisor reads them from the running domain.

    server_diagnostics(ctx, instance) -> dict     API side: 409 without a host or domain
    host_diagnostics(instance_uuid) -> dict        host side (compute.get_diagnostics task)
"""
from cloudproj import rpc
from cloudproj.exceptions import Conflict

from .. import states
from ..models import Instance
from ..virt.driver import DriverError, InstanceNotFound
from . import host_resources as hr


def server_diagnostics(ctx, instance: Instance) -> dict:
    if not instance.host:
        raise Conflict(f"Cannot 'get_diagnostics' instance {instance.uuid} while it has no host.")
    if instance.vm_state not in (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED):
        raise Conflict(
            f"Cannot 'get_diagnostics' instance {instance.uuid} while it is in vm_state {instance.vm_state}"
        )
    answer = rpc.server_diagnostics(instance.host, str(instance.uuid))
    if "error" in answer and len(answer) == 1:
        raise Conflict(answer["error"])
    return answer


def host_diagnostics(instance_uuid) -> dict:
    instance = Instance.objects.filter(uuid=instance_uuid).first()
    if instance is None:
        return {"error": f"Instance {instance_uuid} could not be found."}
    try:
        return hr.driver().get_diagnostics(str(instance.uuid))
    except InstanceNotFound:
        return {"error": f"Instance {instance_uuid} has no domain on this host."}
    except (DriverError, NotImplementedError) as exc:
        return {"error": f"Diagnostics of instance {instance_uuid} are not available: {exc}"}
