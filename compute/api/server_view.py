"""The JSON of a server in Nova's v2.1 shapes (`views/servers.py` of Nova).

    builder = ServerViewBuilder(request, ctx, instances)   # prefetches for the whole page
    builder.summary(instance)   -> {id, name, links}
    builder.detail(instance)    -> the full server (GET /servers/{id}, /servers/detail)

What a page of servers needs from other tables (fixed IPs, faults, the zone of each host) is
read in one query per table, not one per server.
"""
import hashlib
from datetime import timezone as dt_timezone
from typing import NamedTuple

from compute import states
from compute.models import InstanceFault, Service, heartbeat_is_recent
from identity.services.policy import authorize
from network.models import FixedIP

from .base import api_version, compute_base, isotime

# what update/rebuild answer (Nova's show without the extensions); `locked` from 2.9,
# `description` from 2.19, `trusted_image_certificates` from 2.63, `locked_reason` from 2.73,
# `server_groups` (added by the views) from 2.71; from 2.75 they answer the whole server
# (FULL_ANSWER_VERSION)
BRIEF_KEYS = {
    "id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image", "flavor", "created", "updated",
    "addresses", "accessIPv4", "accessIPv6", "links", "OS-DCF:diskConfig", "progress", "fault", "locked",
    "description", "locked_reason", "trusted_image_certificates",
}
LOCKED_REASON_VERSION = (2, 73)
FULL_ANSWER_VERSION = (2, 75)
HOST_STATUS_VERSION = (2, 16)
ROOT_DEVICE_NAME = "/dev/vda"  # every guest's root disk (compute/virt/domain_xml.py)
# statuses whose `progress` Nova shows, and those that show the latest fault
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")
FAULT_STATUSES = ("ERROR", "DELETED")


def isotime_z(value) -> str | None:
    """Nova's server timestamps: 2012-08-20T21:11:09Z (UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt_timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"  # isoformat: strftime's result, faster


def usage_time(value) -> str | None:
    """OS-SRV-USG times: 2013-09-23T13:53:12.774549 (UTC, no zone suffix)."""
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(dt_timezone.utc)
    return isotime(value)


def host_id(project_id, host) -> str:
    """Nova's generate_hostid: the same for a project's servers on one host, "" unplaced."""
    if not host:
        return ""
    return hashlib.sha224(f"{project_id}{host}".encode()).hexdigest()


def security_group_names(instance) -> list[str]:
    """The names of the instance's groups (a copy the secgroups app keeps in step with its
    membership table; a server removed from every group has none)."""
    names = []
    for group in instance.security_groups or []:
        name = group.get("name") if isinstance(group, dict) else group
        if name and name not in names:
            names.append(str(name))
    return names


def security_groups_body(names) -> list[dict]:
    return [{"name": name} for name in names]


def ip_version(address: str) -> int:
    """6 for an IPv6 address, else 4 (the rows hold valid addresses: a colon tells them apart)."""
    return 6 if ":" in address else 4


def address_entry(row) -> dict:
    return {
        "version": ip_version(row.address),
        "addr": row.address,
        "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": row.mac_address,
    }


# What other apps add to a server's view, registered from their AppConfig.ready (compute
# imports none of them): the floating addresses of fixed IPs, the volumes attached to servers.
_lookups: dict = {}


def register_floating_addresses(lookup) -> None:
    """lookup(fixed IP rows) -> {fixed IP id: [floating address, ...]} (one query)."""
    _lookups["floating"] = lookup


def register_attached_volumes(lookup) -> None:
    """lookup(instances) -> {instance uuid: [(volume id, delete_on_termination), ...]} (one query)."""
    _lookups["volumes"] = lookup


def volumes_by_instance(instances) -> dict:
    """{instance uuid: [(volume id, delete_on_termination), ...]} of the servers' attached volumes
    ({} without a volume app)."""
    lookup = _lookups.get("volumes")
    return lookup(instances) if lookup else {}


def floating_by_fixed(rows) -> dict:
    """{fixed IP id: [floating address, ...]} of the rows' current associations ({} without a
    floating app)."""
    lookup = _lookups.get("floating")
    return lookup(rows) if lookup else {}


def addresses_of(rows, floating: dict | None = None) -> dict:
    """{network label: [address, ...]} from FixedIP rows (with their network); each fixed
    address is followed by its floating ones (`floating`: floating_by_fixed of the rows)."""
    if floating is None:
        floating = floating_by_fixed(rows)
    result: dict[str, list] = {}
    for row in rows:
        entries = result.setdefault(row.network.label, [])
        entries.append(address_entry(row))
        for address in floating.get(row.pk, []):
            entries.append({**address_entry(row), "addr": address, "OS-EXT-IPS:type": "floating"})
    return result


class NetworkLabel(NamedTuple):
    label: str


class AddressRow(NamedTuple):
    """The columns of a FixedIP row (and its network's label) a server's view shows: read
    as tuples, not models (a page of 1,000 servers built 2,000 FixedIP and Network objects)."""

    pk: int
    instance_uuid: object
    address: str
    mac_address: str
    network: NetworkLabel


def fixed_ips_by_instance(instances) -> dict:
    """{instance uuid: [AddressRow, ...]} of the live servers among `instances` (one query)."""
    uuids = [i.uuid for i in instances if i.deleted_at is None]
    grouped: dict = {}
    if not uuids:
        return grouped
    rows = (FixedIP.objects.filter(instance_uuid__in=uuids).order_by("network_id", "id")
            .values_list("pk", "instance_uuid", "address", "mac_address", "network__label"))
    for pk, instance_uuid, address, mac_address, label in rows:
        grouped.setdefault(instance_uuid, []).append(
            AddressRow(pk, instance_uuid, address, mac_address, NetworkLabel(label)))
    return grouped


def latest_faults(instances) -> dict:
    """{instance pk: its latest fault} for the servers whose status shows one."""
    pks = [i.pk for i in instances if i.status in FAULT_STATUSES]
    faults: dict = {}
    if pks:
        for fault in InstanceFault.objects.filter(instance_id__in=pks).order_by("instance_id", "-created_at", "-id"):
            faults.setdefault(fault.instance_id, fault)
    return faults


def host_zones(instances) -> dict:
    return {host: row[0] for host, row in compute_services(instances).items()}


def compute_services(instances) -> dict:
    """{host: (zone, disabled, forced_down, last_seen_up)} of the servers' nova-compute services."""
    hosts = {i.host for i in instances if i.host}
    if not hosts:
        return {}
    rows = Service.objects.filter(host__in=hosts, binary="nova-compute").values_list(
        "host", "availability_zone", "disabled", "forced_down", "last_seen_up")
    return {host: rest for host, *rest in rows}


def host_status(service_row) -> str:
    """Nova's host_status (2.16) from a compute_services row: DOWN when forced down, MAINTENANCE
    when disabled, UP while its heartbeat is recent, UNKNOWN after; "" without a service."""
    if service_row is None:
        return ""
    _zone, disabled, forced_down, last_seen_up = service_row
    if forced_down:
        return "DOWN"
    if disabled:
        return "MAINTENANCE"
    return "UP" if heartbeat_is_recent(False, last_seen_up) else "UNKNOWN"


class ServerViewBuilder:
    def __init__(self, request, ctx, instances=()):
        self.request = request
        self.ctx = ctx
        self.base = compute_base(request)
        instances = list(instances)
        self._ips = fixed_ips_by_instance(instances)
        self._floating = floating_by_fixed([row for rows in self._ips.values() for row in rows])
        self._faults = latest_faults(instances)
        self._services = compute_services(instances)
        self._volumes = volumes_by_instance(instances)
        # the same for every server of a page: worked out once
        self._version = api_version(request)
        self._extended: dict = {}  # (policy rule, project, user) -> allowed
        self._host_ids: dict = {}  # (project, host) -> hostId

    # --- pieces ---------------------------------------------------------------------------

    def links(self, instance) -> list[dict]:
        return [
            {"rel": "self", "href": f"{self.base}/v2.1/servers/{instance.uuid}"},
            {"rel": "bookmark", "href": f"{self.base}/servers/{instance.uuid}"},
        ]

    def host_id(self, instance) -> str:
        key = (instance.project_id, instance.host)
        if key not in self._host_ids:
            self._host_ids[key] = host_id(*key)
        return self._host_ids[key]

    def extended(self, instance) -> bool:
        """Whether the caller sees the instance's OS-EXT-SRV-ATTR keys."""
        return self.allowed(instance, "compute:servers:show:extended_attributes")

    def allowed(self, instance, rule: str) -> bool:
        """authorize(rule) for the instance (the policy's answer depends on the instance's
        project and user only: asked once per page for each)."""
        key = (rule, instance.project_id, instance.user_id)
        if key not in self._extended:
            target = {"project_id": instance.project_id, "user_id": instance.user_id}
            self._extended[key] = authorize(self.ctx, rule, target)
        return self._extended[key]

    def bookmark(self, collection: str, item_id) -> list[dict]:
        return [{"rel": "bookmark", "href": f"{self.base}/{collection}/{item_id}"}]

    def image(self, instance):
        if not instance.image_ref:
            return ""
        return {"id": instance.image_ref, "links": self.bookmark("images", instance.image_ref)}

    def flavor(self, instance) -> dict:
        return {"id": instance.flavorid, "links": self.bookmark("flavors", instance.flavorid)}

    def addresses(self, instance) -> dict:
        return addresses_of(self._ips.get(instance.uuid, []), self._floating)

    def availability_zone(self, instance) -> str:
        if instance.host:
            zone = self._services.get(instance.host, ("",))[0]
            if zone:
                return zone
        return instance.availability_zone or ""

    def fault(self, instance) -> dict | None:
        fault = self._faults.get(instance.pk)
        if fault is None:
            return None
        body = {"code": fault.code, "created": isotime_z(fault.created_at), "message": fault.message}
        if fault.details and (self.ctx.is_admin or fault.code != 500):
            body["details"] = fault.details
        return body

    # --- views ----------------------------------------------------------------------------

    def summary(self, instance) -> dict:
        return {"id": str(instance.uuid), "name": instance.display_name, "links": self.links(instance)}

    def volumes_attached(self, instance, version) -> list[dict]:
        attached = self._volumes.get(instance.uuid, [])
        if version >= (2, 3):
            return [{"id": volume_id, "delete_on_termination": delete} for volume_id, delete in attached]
        return [{"id": volume_id} for volume_id, _delete in attached]

    def brief(self, instance) -> dict:
        """The server as Nova's update and rebuild answer it: the detail without the extension
        attributes (OS-EXT-*, OS-SRV-USG, security groups, key name, config drive, volumes) and
        with plain addresses (version and addr); from 2.75 the whole server."""
        if self._version >= FULL_ANSWER_VERSION:
            return self.detail(instance)
        body = {key: value for key, value in self.detail(instance).items() if key in BRIEF_KEYS}
        body["addresses"] = {
            label: [{"version": entry["version"], "addr": entry["addr"]} for entry in entries]
            for label, entries in body["addresses"].items()
        }
        return body

    def detail(self, instance) -> dict:
        version = self._version
        status = states.api_status(instance.vm_state, instance.task_state)
        body = {
            "id": str(instance.uuid),
            "name": instance.display_name,
            "status": status,
            "tenant_id": instance.project_id,
            "user_id": instance.user_id,
            "metadata": dict(instance.metadata or {}),
            "hostId": self.host_id(instance),
            "image": self.image(instance),
            "flavor": self.flavor(instance),
            "created": isotime_z(instance.created_at),
            "updated": isotime_z(instance.updated_at),
            "addresses": self.addresses(instance),
            "accessIPv4": str(instance.access_ip_v4 or ""),
            "accessIPv6": str(instance.access_ip_v6 or ""),
            "links": self.links(instance),
            "key_name": instance.key_name,
            "config_drive": "True" if instance.config_drive else "",
            "OS-DCF:diskConfig": "AUTO" if instance.auto_disk_config else "MANUAL",
            "OS-EXT-AZ:availability_zone": self.availability_zone(instance),
            "OS-EXT-STS:vm_state": instance.vm_state,
            "OS-EXT-STS:task_state": instance.task_state,
            "OS-EXT-STS:power_state": instance.power_state,
            "OS-SRV-USG:launched_at": usage_time(instance.launched_at),
            "OS-SRV-USG:terminated_at": usage_time(instance.terminated_at),
            "os-extended-volumes:volumes_attached": self.volumes_attached(instance, version),
        }
        groups = security_group_names(instance)
        if groups:  # Nova leaves the key out for a server in no group
            body["security_groups"] = security_groups_body(groups)
        if version >= (2, 9):
            body["locked"] = bool(instance.locked)
        if version >= (2, 19):
            body["description"] = instance.display_description
        if version >= (2, 63):
            body["trusted_image_certificates"] = instance.trusted_certs or None
        if version >= LOCKED_REASON_VERSION:
            body["locked_reason"] = instance.locked_reason if instance.locked else None
        if status in PROGRESS_STATUSES:
            body["progress"] = instance.progress or 0
        if version >= HOST_STATUS_VERSION and self.allowed(instance, "compute:servers:show:host_status"):
            body["host_status"] = host_status(self._services.get(instance.host)) if instance.host else ""
        if self.extended(instance):
            body["OS-EXT-SRV-ATTR:host"] = instance.host
            body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = instance.node
            body["OS-EXT-SRV-ATTR:instance_name"] = instance.name
            if version >= (2, 3):
                body.update({
                    "OS-EXT-SRV-ATTR:reservation_id": instance.reservation_id,
                    "OS-EXT-SRV-ATTR:launch_index": instance.launch_index,
                    "OS-EXT-SRV-ATTR:kernel_id": instance.kernel_id or "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": instance.ramdisk_id or "",
                    "OS-EXT-SRV-ATTR:hostname": instance.hostname,
                    "OS-EXT-SRV-ATTR:root_device_name": ROOT_DEVICE_NAME,
                    "OS-EXT-SRV-ATTR:user_data": instance.user_data or None,
                })
        if status in FAULT_STATUSES:
            fault = self.fault(instance)
            if fault is not None:
                body["fault"] = fault
        return body
