"""Ports of the Networking API: a port is one allocated fixed address of an instance.

nova-network has no port objects; the Networking API's port is the FixedIP row allocated to
an instance, identified by `FixedIP.port_id` (a UUID given when the address is allocated and
cleared when it is released). So a port exists exactly as long as the instance holds the
address; ports are created by booting a server and go away when it is deleted.
"""
from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cloudproj.exceptions import Conflict, Invalid
from compute.models import Instance

from ..models import FixedIP, Network
from . import NetworkError


class PortNotFound(NetworkError, Invalid):
    """A server create naming a port that does not exist (400, as Nova's)."""

    code = 400


class PortInUse(NetworkError, Conflict):
    code = 409


@dataclass(frozen=True)
class Port:
    id: str
    network: Network
    instance_uuid: str
    address: str
    mac: str
    host: str
    project_id: str | None
    created: datetime
    updated: datetime
    active: bool = False  # the instance is running (the port's status ACTIVE, else DOWN)


def _uuids(values: Iterable) -> list[uuid_module.UUID]:
    """The valid UUIDs among `values` (an id that is no UUID matches no port)."""
    result = []
    for value in values:
        try:
            result.append(value if isinstance(value, uuid_module.UUID) else uuid_module.UUID(str(value)))
        except ValueError:
            continue
    return result


def _ports(rows) -> list[Port]:
    rows = list(rows)
    instances = {
        i.uuid: i for i in Instance.all_objects.filter(uuid__in={r.instance_uuid for r in rows})
        .only("uuid", "project_id", "created_at", "vm_state", "deleted_at")
    }
    ports = []
    for row in rows:
        instance = instances.get(row.instance_uuid)
        ports.append(Port(
            id=str(row.port_id), network=row.network, instance_uuid=str(row.instance_uuid), address=row.address,
            mac=row.mac_address or "", host=row.host, project_id=instance.project_id if instance else None,
            created=row.updated_at, updated=row.updated_at,
            active=bool(instance and instance.deleted_at is None and instance.vm_state == "active"),
        ))
    return ports


def _allocated():
    return (FixedIP.objects.filter(allocated=True, instance_uuid__isnull=False, port_id__isnull=False,
                                   network__deleted_at__isnull=True)
            .select_related("network").order_by("network_id", "id"))


def find_port(port_id) -> Port | None:
    """The port `port_id`, or None (unknown, malformed, or its address was released)."""
    ids = _uuids([port_id])
    if not ids:
        return None
    found = _ports(_allocated().filter(port_id=ids[0]))
    return found[0] if found else None


def ports(ids: Iterable | None = None, instance_uuids: Iterable | None = None,
          network_ids: Iterable | None = None, project_id: str | None = None,
          addresses: Iterable[str] | None = None, macs: Iterable[str] | None = None) -> list[Port]:
    """Ports matching every given filter (each a collection: any value matches).
    `network_ids` are Network uuids; `project_id` is the instance's project."""
    rows = _allocated()
    if ids is not None:
        rows = rows.filter(port_id__in=_uuids(ids))
    if instance_uuids is not None:
        rows = rows.filter(instance_uuid__in=_uuids(instance_uuids))
    if network_ids is not None:
        rows = rows.filter(network__uuid__in=_uuids(network_ids))
    if addresses is not None:
        rows = rows.filter(address__in=list(addresses))
    if macs is not None:
        rows = rows.filter(mac_address__in=[m.lower() for m in macs])
    if project_id is not None:
        uuids = Instance.all_objects.filter(project_id=project_id).values_list("uuid", flat=True)
        rows = rows.filter(instance_uuid__in=uuids)
    return _ports(rows)


def ports_of_instance(instance_uuid) -> list[Port]:
    ids = _uuids([instance_uuid])
    return ports(instance_uuids=ids) if ids else []


def network_for_port_request(port_id) -> Network:
    """A server create's `networks: [{"port": port_id}]`. Ports exist only for the addresses
    of booted servers (nova-network allocates an address while it boots the server), so a
    port is always bound: 409 PortInUse for an existing port, 400 for an unknown one. (No
    unbound port can be created through the API: POST /ports is refused.)"""
    port = find_port(port_id)
    if port is None:
        raise PortNotFound(f"Port {port_id} could not be found.")
    raise PortInUse(f"Port {port.id} is still in use: it is the address {port.address} of server "
                    f"{port.instance_uuid}. Ports are created by booting a server; request its network instead.")
