"""Server diagnostics (`GET /servers/{id}/diagnostics`, admins), API side: asked of the
instance's host, whose hypervisor reads them from the running domain
(compute.services.diagnostics_host). No host code here: the API process imports this.

    server_diagnostics(ctx, instance) -> dict     409 without a host or a domain
"""
from cloudproj import rpc
from cloudproj.exceptions import Conflict

from .. import states
from ..models import Instance


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
