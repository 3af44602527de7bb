"""The volume scheduler: the live volume host with the most free capacity.

Free capacity of a host = the smaller of what its agent last reported (VolumeHost.free_gb)
and its total minus what the DB already places there (live volumes and snapshots), so
volumes created between two reports still count. The candidate rows are locked FOR UPDATE
(in host order) for the rest of the caller's transaction: two concurrent creates cannot both
take the last gigabytes of a host.
"""
from django.conf import settings
from django.db.models import Sum

from compute.models import Service, is_up

from ..models import Snapshot, Volume, VolumeHost

BINARY = "nova-volume"


def host_zones() -> dict:
    """{host: zone}: a volume host is in its host's zone (that of its nova-compute service,
    as the seeds' storage_availability_zone defaulted to the compute zone); nova-volume
    services themselves are registered in the internal zone."""
    zones = dict(Service.objects.filter(binary="nova-compute").values_list("host", "availability_zone"))
    return {host: zone or settings.DEFAULT_AVAILABILITY_ZONE for host, zone in zones.items()}


def live_services(zone: str | None = None) -> dict:
    """{host: Service} of the nova-volume services that are up, enabled, and in `zone`."""
    services = Service.objects.filter(binary=BINARY, disabled=False)
    zones = host_zones()
    default = settings.DEFAULT_AVAILABILITY_ZONE
    return {s.host: s for s in services if is_up(s) and (zone is None or zones.get(s.host, default) == zone)}


def zones() -> set:
    default = settings.DEFAULT_AVAILABILITY_ZONE
    zones = host_zones()
    return {zones.get(host, default) for host in Service.objects.filter(binary=BINARY).values_list("host", flat=True)}


def allocated_gb(host: str) -> int:
    volumes = Volume.objects.filter(host=host).aggregate(n=Sum("size"))["n"] or 0
    snapshots = Snapshot.objects.filter(host=host).aggregate(n=Sum("size"))["n"] or 0
    return volumes + snapshots


def free_gb(row: VolumeHost) -> int:
    return min(row.free_gb, row.total_gb - allocated_gb(row.host))


VENDOR_NAME = "cloudproj"
# the capabilities a volume type's extra specs may ask for (Cinder's CapabilitiesFilter; the
# key may carry its `capabilities:` scope), as a host's back end reports them (get_pools)
MATCHED_CAPABILITIES = ("vendor_name", "storage_protocol", "driver_version")


def capabilities(driver: str) -> dict:
    return {"vendor_name": VENDOR_NAME, "storage_protocol": "iSCSI" if driver == "lvm" else "file",
            "driver_version": "1.0"}


def wanted_capabilities(extra_specs: dict | None) -> dict:
    wanted = {}
    for key, value in (extra_specs or {}).items():
        name = key.split(":", 1)[1] if key.startswith("capabilities:") else key
        if name in MATCHED_CAPABILITIES:
            wanted[name] = str(value)
    return wanted


def _satisfies(offered: str, wanted: str) -> bool:
    """Cinder's spec values: `<in> x` (substring), `<or> a <or> b` (one of), else equal."""
    if wanted.startswith("<in>"):
        return wanted[4:].strip() in offered
    if wanted.startswith("<or>"):
        return offered in [w.strip() for w in wanted.split("<or>") if w.strip()]
    return offered == wanted


def satisfies(driver: str, wanted: dict) -> bool:
    offered = capabilities(driver)
    return all(_satisfies(offered[name], value) for name, value in wanted.items())


def pick_host(size_gb: int, zone: str | None = None, host: str | None = None,
              backend: str | None = None, wanted: dict | None = None) -> str | None:
    """The chosen host, or None when no live host has `size_gb` free. `host`: only that one
    (a volume made from a snapshot stays on the snapshot's host); `backend`: only hosts of that
    back end (a volume type's `volume_backend_name` extra spec; a host's back end is named after
    its driver, `lvm` or `file`, as /capabilities and get_pools show); `wanted`: capabilities
    the back end must report (wanted_capabilities). Call inside a transaction."""
    services = live_services(zone)
    rows = VolumeHost.objects.select_for_update().filter(host__in=list(services)).order_by("host")
    if host is not None:
        rows = rows.filter(host=host)
    if backend is not None:
        rows = rows.filter(driver=backend)
    best, best_free = None, None
    for row in rows:
        if not satisfies(row.driver, wanted or {}):
            continue
        free = free_gb(row)
        if free >= size_gb and (best_free is None or free > best_free):
            best, best_free = row.host, free
    return best
