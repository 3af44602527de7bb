"""Services (heartbeats), compute nodes (capacity), hosts and availability zones."""
import re
import uuid as uuid_lib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from ..models import BINARY_TOPICS, ComputeNode, Instance, Service, is_up
from cloudproj import rpc
from cloudproj.exceptions import CloudError, Invalid, NotFound

from . import aggregates

HOST_BINARIES = ("nova-compute", "nova-network", "nova-volume")
# A host name ends up in queue names, file paths, libvirt XML and command lines: keep it to
# what DNS allows (RFC 1123 labels), at most 255 characters.
HOST_NAME = re.compile(r"^(?=.{1,255}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z")


def validate_host_name(host: str) -> str:
    if not isinstance(host, str) or not HOST_NAME.match(host):
        raise Invalid(f"Invalid host name {host!r}: use letters, digits, '-' and '.' (DNS labels).")
    return host


def zone_for_binary(binary: str, availability_zone: str | None) -> str:
    """Compute services live in their host's zone; everything else in the internal zone."""
    if binary == "nova-compute":
        return availability_zone or settings.DEFAULT_AVAILABILITY_ZONE
    return settings.INTERNAL_SERVICE_AVAILABILITY_ZONE


# --- registration and heartbeats ------------------------------------------------------------


def register_service(host: str, binary: str, availability_zone: str | None = None) -> Service:
    """Create or refresh the service row of `binary` on `host` and mark it seen now."""
    if binary not in BINARY_TOPICS:
        raise Invalid(f"Unknown binary {binary!r}; expected one of {', '.join(BINARY_TOPICS)}.")
    validate_host_name(host)
    zone = zone_for_binary(binary, availability_zone)
    if binary == "nova-compute":  # a host aggregate's zone wins over the agent's own
        zone = aggregates.aggregate_zone(host) or zone
    now = timezone.now()
    defaults = {"topic": BINARY_TOPICS[binary], "availability_zone": zone, "last_seen_up": now}
    for _attempt in (1, 2):
        try:
            with transaction.atomic():
                service, created = Service.objects.select_for_update().get_or_create(
                    host=host, binary=binary, defaults=defaults
                )
                if not created:
                    for field, value in defaults.items():
                        setattr(service, field, value)
                    service.report_count = F("report_count") + 1
                    service.save(update_fields=[*defaults, "report_count", "updated_at"])
                    service.refresh_from_db()
                return service
        except IntegrityError:  # a concurrent registration created it first
            continue
    return Service.objects.get(host=host, binary=binary)


def heartbeat(service: Service) -> Service:
    """Record one report; re-registers the service if an operator deleted its row."""
    updated = Service.objects.filter(pk=service.pk).update(
        last_seen_up=timezone.now(), report_count=F("report_count") + 1, updated_at=timezone.now()
    )
    if not updated:
        zone = service.availability_zone if service.binary == "nova-compute" else None
        return register_service(service.host, service.binary, zone)
    return service


def heartbeat_many(services: list[Service]) -> list[Service]:
    """One report for many services in one UPDATE (a simulated fleet's hosts); the rows an
    operator deleted are registered again."""
    now = timezone.now()
    updated = Service.objects.filter(pk__in=[s.pk for s in services]).update(
        last_seen_up=now, report_count=F("report_count") + 1, updated_at=now)
    if updated == len({s.pk for s in services}):
        return services
    alive = set(Service.objects.filter(pk__in=[s.pk for s in services]).values_list("pk", flat=True))
    return [s if s.pk in alive else heartbeat(s) for s in services]


def update_compute_node(service: Service, stats) -> ComputeNode:
    """Upsert the compute node of `service` from driver HostStats (usage stays claim-driven)."""
    capacity = {
        "service": service,
        "hypervisor_type": stats.hypervisor_type,
        "hypervisor_version": stats.hypervisor_version,
        "cpu_info": stats.cpu_info,
        "vcpus": stats.vcpus,
        "memory_mb": stats.memory_mb,
        "local_gb": stats.local_gb,
        "disk_available_least": stats.disk_available_least,
        "running_vms": stats.running_vms,
        "host_ip": stats.host_ip,
    }
    with transaction.atomic():
        node, _created = ComputeNode.objects.select_for_update().get_or_create(
            host=service.host, hypervisor_hostname=stats.hypervisor_hostname, defaults=capacity
        )
        for field, value in capacity.items():
            setattr(node, field, value)
        node.recompute_free()
        node.save()
    return node


# --- operator queries and actions -----------------------------------------------------------


def list_services(host: str | None = None, binary: str | None = None):
    qs = Service.objects.all().order_by("host", "binary")
    if host:
        qs = qs.filter(host=host)
    if binary:
        qs = qs.filter(binary=binary)
    return qs


def get_service(host: str, binary: str) -> Service:
    service = Service.objects.filter(host=host, binary=binary).first()
    if service is None:
        raise NotFound(f"Unknown service {binary} on host {host}.")
    return service


def set_service_disabled(host: str, binary: str, disabled: bool, reason: str | None = None) -> Service:
    service = get_service(host, binary)
    service.disabled = disabled
    service.disabled_reason = reason if disabled else None
    service.save(update_fields=["disabled", "disabled_reason", "updated_at"])
    return service


def set_service_forced_down(host: str, binary: str, forced_down: bool) -> Service:
    """Mark a service down (or no longer forced down) whatever its heartbeat says: the
    scheduler and the API then treat it as down (Nova's os-services force-down, 2.11)."""
    service = get_service(host, binary)
    service.forced_down = forced_down
    service.save(update_fields=["forced_down", "updated_at"])
    return service


def _uuid_or_invalid(value) -> uuid_lib.UUID:
    """A uuid path parameter (compute API 2.53): anything else is Nova's 400 "Invalid uuid"."""
    try:
        return uuid_lib.UUID(str(value))
    except ValueError:
        raise Invalid(f"Invalid uuid {value}") from None


def get_service_by_uuid(service_uuid) -> Service:
    service = Service.objects.filter(uuid=_uuid_or_invalid(service_uuid)).first()
    if service is None:
        raise NotFound(f"Service {service_uuid} could not be found.")
    return service


def update_service(service: Service, status: str | None = None, disabled_reason: str | None = None,
                   forced_down: bool | None = None) -> Service:
    """PUT /os-services/{uuid} (2.53): enable/disable (with a reason) and/or force down a
    nova-compute service; Invalid (400) for another binary, a reason with `enabled` or nothing."""
    if service.binary != "nova-compute":
        raise Invalid(f"Updating a {service.binary} service is not supported. Only nova-compute services can be "
                      "updated.")
    if status is None and forced_down is None:
        raise Invalid("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
    if status == "enabled" and disabled_reason:
        raise Invalid("Specifying 'disabled_reason' with status 'enabled' is invalid.")
    if status is not None:
        service.disabled = status == "disabled"
        service.disabled_reason = disabled_reason if service.disabled else None
    if forced_down is not None:
        service.forced_down = forced_down
    service.save(update_fields=["disabled", "disabled_reason", "forced_down", "updated_at"])
    return service


def delete_service(service_id) -> None:
    """Remove a service row (and, for nova-compute, its compute nodes); by id, or by uuid from
    compute API 2.53."""
    if isinstance(service_id, uuid_lib.UUID):
        deleted, _ = Service.objects.filter(uuid=service_id).delete()
    else:
        deleted, _ = Service.objects.filter(pk=service_id).delete()
    if not deleted:
        raise NotFound(f"Service {service_id} could not be found.")


def hosts():
    """[(host, zone)] for every host with a service; a compute service's zone wins."""
    zones: dict[str, str] = {}
    for service in Service.objects.order_by("host", "binary"):
        if service.binary == "nova-compute" or service.host not in zones:
            zones[service.host] = service.availability_zone
    return sorted(zones.items())


# --- availability zones ------------------------------------------------------------------------


def availability_zones() -> list[tuple[str, bool]]:
    """[(zone, available)] over compute services; available when one is enabled."""
    zones: dict[str, bool] = {}
    for service in Service.objects.filter(binary="nova-compute"):
        zones[service.availability_zone] = zones.get(service.availability_zone, False) or not service.disabled
    return sorted(zones.items())


def availability_zones_detail() -> list[tuple[str, bool, dict]]:
    """[(zone, available, {host: [service, ...]})] including the internal zone."""
    zones: dict[str, dict] = {}
    available: dict[str, bool] = {}
    for service in Service.objects.order_by("host", "binary"):
        zone = zone_for_binary(service.binary, service.availability_zone)
        zones.setdefault(zone, {}).setdefault(service.host, []).append(service)
        available[zone] = available.get(zone, False) or not service.disabled
    return [(zone, available[zone], zones[zone]) for zone in sorted(zones)]


# --- hypervisors -------------------------------------------------------------------------------


def list_compute_nodes():
    return ComputeNode.objects.select_related("service").order_by("id")


def get_compute_node(node_id, by_uuid: bool = False) -> ComputeNode:
    """By integer id, or (by_uuid, compute API 2.53) by uuid: a malformed one is a 400."""
    if by_uuid:
        node = list_compute_nodes().filter(uuid=_uuid_or_invalid(node_id)).first()
        if node is None:
            raise NotFound(f"Hypervisor with ID '{node_id}' could not be found.")
        return node
    try:
        pk = int(node_id)
    except (TypeError, ValueError):
        pk = None
    node = list_compute_nodes().filter(pk=pk).first() if pk is not None else None
    if node is None:
        raise NotFound(f"Hypervisor with ID '{node_id}' could not be found.")
    return node


def requested_destination(host: str | None, node: str | None) -> str | None:
    """The compute host a create asks for (compute API 2.74 `host` / `hypervisor_hostname`): the
    host of that node, checked to exist (Invalid, a 400, as Nova); both given must agree."""
    nodes = ComputeNode.objects.filter(service__binary="nova-compute")
    if host is not None and not nodes.filter(service__host=host).exists():
        raise Invalid(f"Compute host {host} could not be found.")
    if node is not None:
        matching = nodes.filter(hypervisor_hostname=node)
        if host is not None:
            matching = matching.filter(service__host=host)
        row = matching.select_related("service").first()
        if row is None:
            raise Invalid(f"Compute host {host} with node {node} could not be found." if host
                          else f"Compute node {node} could not be found.")
        return row.service.host
    return host


def hypervisor_uptime(node: ComputeNode) -> str:
    """The uptime line of the node's host, asked of its agent. Invalid (400, as Nova) when its
    compute service is down; ServiceUnavailable (503) when the agent does not answer in time."""
    if not service_is_up(node.service):
        raise Invalid(f"Compute service of {node.service.host} is unavailable at this time.")
    return rpc.host_uptime(node.service.host)


def search_compute_nodes(pattern: str) -> list[ComputeNode]:
    """Compute nodes whose hypervisor hostname contains `pattern` (NotFound when none: Nova)."""
    nodes = list(list_compute_nodes().filter(hypervisor_hostname__contains=pattern))
    if not nodes:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return nodes


STAT_FIELDS = (
    "vcpus",
    "memory_mb",
    "local_gb",
    "vcpus_used",
    "memory_mb_used",
    "local_gb_used",
    "free_ram_mb",
    "free_disk_gb",
    "current_workload",
    "running_vms",
    "disk_available_least",
)


def hypervisor_statistics() -> dict:
    """Sums over compute nodes whose nova-compute service is enabled."""
    qs = ComputeNode.objects.filter(service__disabled=False, service__binary="nova-compute")
    sums = qs.aggregate(**{field: Sum(field) for field in STAT_FIELDS})
    return {"count": qs.count(), **{field: sums[field] or 0 for field in STAT_FIELDS}}


@dataclass
class HostResources:
    host: str
    total: tuple[int, int, int]  # (vcpus, memory_mb, local_gb)
    used_now: tuple[int, int, int]
    used_max: tuple[int, int, int]
    projects: list  # [(project_id, vcpus, memory_mb, local_gb)] of the instances on the host


def describe_resource(host: str) -> HostResources:
    """What the host's compute node has (`total`), what the driver reports in use
    (`used_now`), what its instances' flavors add up to (`used_max`) and the per-project
    share of the latter (Nova's os-hosts show)."""
    nodes = list(ComputeNode.objects.filter(host=host))
    if not nodes:
        if Service.objects.filter(host=host).exists():
            raise NotFound(f"Host {host} has no compute node (is nova-compute running there?).")
        raise NotFound(f"Host {host} not found.")

    def total(*fields):
        return tuple(sum(getattr(node, field) for node in nodes) for field in fields)

    per_project: dict[str, list[int]] = {}
    rows = (Instance.objects.filter(host=host).order_by("created_at", "id")
            .values_list("project_id", "vcpus", "memory_mb", "root_gb", "ephemeral_gb"))
    for project_id, vcpus, memory_mb, root_gb, ephemeral_gb in rows:
        sums = per_project.setdefault(str(project_id), [0, 0, 0])
        sums[0] += vcpus
        sums[1] += memory_mb
        sums[2] += root_gb + ephemeral_gb
    projects = [(project_id, *sums) for project_id, sums in per_project.items()]
    used_max = [0, 0, 0]
    for sums in per_project.values():
        used_max = [a + b for a, b in zip(used_max, sums, strict=True)]
    return HostResources(
        host=host,
        total=total("vcpus", "memory_mb", "local_gb"),
        used_now=total("vcpus_used", "memory_mb_used", "local_gb_used"),
        used_max=(used_max[0], used_max[1], used_max[2]),
        projects=projects,
    )


# --- os-hosts (Nova 2.1-2.42) ------------------------------------------------------------------


class HostActionNotSupported(CloudError):
    """What the libvirt driver cannot do to a host (Nova answers 501 there too)."""

    code = 501


def list_host_services(zone: str | None = None) -> list[tuple[str, str, str]]:
    """[(host, topic, zone)] of every enabled service, optionally only those of availability
    zone `zone` (an unknown zone: none), as Nova's os-hosts index lists them."""
    rows = [(svc.host, svc.topic, zone_for_binary(svc.binary, svc.availability_zone))
            for svc in Service.objects.filter(disabled=False).order_by("host", "binary")]
    return [row for row in rows if row[2] == zone] if zone else rows


def _host_compute_service(host: str, must_be_up: bool) -> Service:
    service = Service.objects.filter(host=host, binary="nova-compute").first()
    if service is None:
        raise NotFound(f"Compute host {host} could not be found.")
    if must_be_up and not service_is_up(service):
        raise Invalid(f"Compute service of {host} is unavailable at this time.")
    return service


def set_host_enabled(host: str, enabled: bool) -> str:
    """os-hosts `status`: enable/disable the host's compute service (the scheduler skips a
    disabled one); "enabled" or "disabled"."""
    service = _host_compute_service(host, must_be_up=False)
    service = set_service_disabled(service.host, service.binary, not enabled, None)
    return "disabled" if service.disabled else "enabled"


def check_host_maintenance(host: str) -> None:
    """os-hosts `maintenance_mode`: 404 for an unknown host, 400 when its compute service is
    down, else 501: the libvirt driver has no maintenance mode (Nova's neither)."""
    _host_compute_service(host, must_be_up=True)
    raise HostActionNotSupported("Feature not supported.")


def host_power_action(host: str, action: str) -> str:
    """os-hosts reboot/shutdown/startup: 404 for an unknown host, 400 when its compute
    service is down, else 501 (libvirt cannot power a host; Nova answers the same)."""
    _host_compute_service(host, must_be_up=True)
    raise HostActionNotSupported("Feature not supported.")


def service_is_up(service: Service) -> bool:
    return is_up(service)
