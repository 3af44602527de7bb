"""Response bodies of the compute API, in Nova's v2.1 shapes (plain functions)."""
import json

from compute.services import hosts

from .base import isotime, links


def flavor_summary(request, flavor) -> dict:
    return {"id": flavor.flavorid, "name": flavor.name, "links": links(request, "flavors", flavor.flavorid)}


def flavor_detail(request, flavor) -> dict:
    return {
        "id": flavor.flavorid,
        "name": flavor.name,
        "ram": flavor.memory_mb,
        "disk": flavor.root_gb,
        "vcpus": flavor.vcpus,
        "links": links(request, "flavors", flavor.flavorid),
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": flavor.disabled,
        "os-flavor-access:is_public": flavor.is_public,
        "swap": flavor.swap or "",
        "rxtx_factor": flavor.rxtx_factor,
    }


def flavor_access(flavor, project_ids) -> dict:
    return {"flavor_access": [{"flavor_id": flavor.flavorid, "tenant_id": pid} for pid in project_ids]}


def service(svc, version=(2, 1)) -> dict:
    body = {
        "id": svc.id,
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


def hypervisor_summary(node) -> dict:
    return {
        "id": node.id,
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if hosts.service_is_up(node.service) else "down",
        "status": "disabled" if node.service.disabled else "enabled",
    }


def hypervisor_detail(node, version=(2, 1)) -> dict:
    """cpu_info: a JSON string below 2.28, the object from 2.28."""
    return {
        **hypervisor_summary(node),
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
            "id": node.service.id,
            "host": node.service.host,
            "disabled_reason": node.service.disabled_reason,
        },
        "cpu_info": node.cpu_info if version >= (2, 28) else json.dumps(node.cpu_info),
    }
