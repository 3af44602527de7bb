"""Response bodies of the compute API, in Nova's v2.1 shapes (plain functions)."""
import json

from compute.services import hosts
from identity.services.policy import authorize

from .base import api_version, isotime, links

FLAVOR_DESCRIPTION_VERSION = (2, 55)
FLAVOR_EXTRA_SPECS_VERSION = (2, 61)
SWAP_ZERO_VERSION = (2, 75)  # swap 0, not "", for a flavor without swap


def flavor_summary(request, flavor) -> dict:
    body = {"id": flavor.flavorid, "name": flavor.name, "links": links(request, "flavors", flavor.flavorid)}
    if api_version(request) >= FLAVOR_DESCRIPTION_VERSION:
        body["description"] = flavor.description
    return body


def flavor_detail(request, flavor) -> dict:
    """The flavor; from 2.55 with its description, from 2.61 its extra_specs (for callers the
    policy lets list them), from 2.75 swap 0 rather than ""."""
    version = api_version(request)
    body = {
        "id": flavor.flavorid,
        "name": flavor.name,
        "ram": flavor.memory_mb,
        "disk": flavor.root_gb,
        "vcpus": flavor.vcpus,
        "links": links(request, "flavors", flavor.flavorid),
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": flavor.disabled,
        "os-flavor-access:is_public": flavor.is_public,
        "swap": flavor.swap or (0 if version >= SWAP_ZERO_VERSION else ""),
        "rxtx_factor": flavor.rxtx_factor,
    }
    if version >= FLAVOR_DESCRIPTION_VERSION:
        body["description"] = flavor.description
    if version >= FLAVOR_EXTRA_SPECS_VERSION and authorize(request.auth, "compute:flavor_extra_specs:index"):
        body["extra_specs"] = {spec.key: spec.value for spec in flavor.extra_specs.all()}
    return body


def flavor_access(flavor, project_ids) -> dict:
    return {"flavor_access": [{"flavor_id": flavor.flavorid, "tenant_id": pid} for pid in project_ids]}


UUID_IDS_VERSION = (2, 53)  # services and hypervisors named by uuid


def service(svc, version=(2, 1)) -> dict:
    body = {
        "id": str(svc.uuid) if version >= UUID_IDS_VERSION else svc.id,
        "binary": svc.binary,
        "host": svc.host,
        "zone": svc.availability_zone,
        "status": "disabled" if svc.disabled else "enabled",
        "state": "up" if hosts.service_is_up(svc) else "down",
        "updated_at": isotime(svc.last_seen_up or svc.updated_at),
        "disabled_reason": svc.disabled_reason,
    }
    if version >= (2, 11):
        body["forced_down"] = svc.forced_down
    return body


def hypervisor_summary(node, version=(2, 1)) -> dict:
    return {
        "id": str(node.uuid) if version >= UUID_IDS_VERSION else node.id,
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if hosts.service_is_up(node.service) else "down",
        "status": "disabled" if node.service.disabled else "enabled",
    }


def hypervisor_detail(node, version=(2, 1)) -> dict:
    return {
        **hypervisor_summary(node, version),
        "vcpus": node.vcpus,
        "memory_mb": node.memory_mb,
        "local_gb": node.local_gb,
        "vcpus_used": node.vcpus_used,
        "memory_mb_used": node.memory_mb_used,
        "local_gb_used": node.local_gb_used,
        "hypervisor_type": node.hypervisor_type,
        "hypervisor_version": node.hypervisor_version,
        "free_ram_mb": node.free_ram_mb,
        "free_disk_gb": node.free_disk_gb,
        "current_workload": node.current_workload,
        "running_vms": node.running_vms,
        "disk_available_least": node.disk_available_least,
        "host_ip": node.host_ip,
        "service": {
            "id": str(node.service.uuid) if version >= UUID_IDS_VERSION else node.service.id,
            "host": node.service.host,
            "disabled_reason": node.service.disabled_reason,
        },
        "cpu_info": json.dumps(node.cpu_info),
    }
