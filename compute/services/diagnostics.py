"""Server diagnostics (`GET /servers/{id}/diagnostics`, admins), API side: asked of the
instance's host, whose hypervisor reads them from the running domain
(compute.services.diagnostics_host). No host code here: the API process imports this.

    server_diagnostics(ctx, instance) -> dict     409 without a host or a domain
    standard_diagnostics(instance, flat) -> dict  2.48's standard body from the host's flat one
"""
from django.conf import settings
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Conflict
from network.services.fixed_ips import fixed_ips_of_instance

from .. import states
from ..models import Instance

# the flat keys' suffixes (compute.virt.diagnostics), in libvirt's blockStats/interfaceStats order
DISK_STATS = ("read_req", "read", "write_req", "write", "errors")
INTERFACE_STATS = ("rx", "rx_packets", "rx_errors", "rx_drop", "tx", "tx_packets", "tx_errors", "tx_drop")
POWER_STATES = {states.power.NOSTATE: "pending", states.power.RUNNING: "running", states.power.PAUSED: "paused",
                states.power.SHUTDOWN: "shutdown", states.power.CRASHED: "crashed",
                states.power.SUSPENDED: "suspended"}


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


def _devices(flat: dict, first_stat: str) -> list[str]:
    """The devices of the flat body, in the domain's order: keys `<dev>_<first_stat>`."""
    suffix = f"_{first_stat}"
    return [key[:-len(suffix)] for key in flat if key.endswith(suffix) and not key.startswith("cpu")]


def standard_diagnostics(instance: Instance, flat: dict) -> dict:
    """Nova's standard diagnostics (microversion 2.48) from the host's flat libvirt counters:
    the NICs' MAC addresses are the server's fixed IPs' (its domain's interfaces, in order),
    memory in MiB, what libvirt does not tell (CPU utilisation, NIC rates) null."""
    cpus = sorted((int(key[3:-5]), value) for key, value in flat.items()
                  if key.startswith("cpu") and key.endswith("_time") and key[3:-5].isdigit())
    disks = [{"read_bytes": flat.get(f"{dev}_read"), "read_requests": flat.get(f"{dev}_read_req"),
              "write_bytes": flat.get(f"{dev}_write"), "write_requests": flat.get(f"{dev}_write_req"),
              "errors_count": flat.get(f"{dev}_errors")} for dev in _devices(flat, "read_req")]
    macs = [row.mac_address for row in fixed_ips_of_instance(instance.uuid) if row.mac_address]
    nics = []
    for index, dev in enumerate(_devices(flat, "rx_packets")):
        nics.append({"mac_address": macs[index] if index < len(macs) else None,
                     "rx_octets": flat.get(f"{dev}_rx"), "rx_packets": flat.get(f"{dev}_rx_packets"),
                     "rx_errors": flat.get(f"{dev}_rx_errors"), "rx_drop": flat.get(f"{dev}_rx_drop"),
                     "rx_rate": None, "tx_octets": flat.get(f"{dev}_tx"),
                     "tx_packets": flat.get(f"{dev}_tx_packets"), "tx_errors": flat.get(f"{dev}_tx_errors"),
                     "tx_drop": flat.get(f"{dev}_tx_drop"), "tx_rate": None})
    maximum = flat.get("memory")
    used = flat.get("memory-actual", maximum)
    return {
        "state": POWER_STATES.get(instance.power_state, "pending"),
        "driver": "libvirt",
        "hypervisor": settings.VIRT_TYPE,
        "hypervisor_os": "linux",
        "uptime": int((timezone.now() - instance.launched_at).total_seconds()) if instance.launched_at else None,
        "config_drive": bool(instance.config_drive),
        "num_cpus": instance.vcpus,
        "num_disks": len(disks),
        "num_nics": len(nics),
        "cpu_details": [{"id": number, "time": time, "utilisation": None} for number, time in cpus],
        "disk_details": disks,
        "nic_details": nics,
        "memory_details": {"maximum": maximum // 1024 if maximum is not None else None,
                           "used": used // 1024 if used is not None else None},
    }
