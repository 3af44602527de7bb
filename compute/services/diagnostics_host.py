"""Server diagnostics, host side (the compute.get_diagnostics task on the instance's host):
the hypervisor's counters of the running domain, or {"error": reason}."""
from ..models import Instance
from ..virt.driver import DriverError, InstanceNotFound
from . import host_resources as hr


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
