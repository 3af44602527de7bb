"""What an instance holds on its compute host, set up and torn down by that host's agent.

    allocate_network(instance) -> [FixedIP]      fixed IP per network + live DHCP entry
    prepare_disk(instance)                         image bases cached, qcow2 overlay created
    build_spec(instance) -> InstanceSpec           what the hypervisor driver needs
    cleanup(instance, keep_network=False) -> dict  domain, files, DHCP entry, fixed IPs: gone

Every function is idempotent: a task re-delivered after a worker crash converges.
"""
import logging
import shutil
import threading
import uuid as uuid_lib
from pathlib import Path

from django.conf import settings

from cloudproj.exceptions import CloudError, Invalid
from cloudproj.host import hooks as host_hooks
from cloudproj.host.identity import current_host
from cloudproj.hostnames import sanitize_hostname
from images.drivers import cache as image_cache
from images.models import Image
from network import validate
from network.models import Network
from network.services import fixed_ips as fixed_ip_service
from network.services import host as network_host
from network.services import networks as network_service
from network.services import vlan as vlan_service

from ..models import Instance
from ..virt import InstanceSpec, Nic, get_driver
from ..virt.spec import DEFAULT_CMDLINE as DEFAULT_KERNEL_CMDLINE
from ..virt.spec import NAME_RE

log = logging.getLogger(__name__)

DISK_NAME = "disk"

_driver = None
_driver_lock = threading.Lock()
_host_drivers: dict = {}  # a simulated fleet: one driver (one test:/// connection) per host


class ImageUnavailable(CloudError):
    code = 500


def register_host_driver(host: str, host_driver) -> None:
    """A process serving several simulated hosts (compute/fleet.py): `driver()` answers with
    `host_driver` while the thread acts for `host`."""
    with _driver_lock:
        _host_drivers[host] = host_driver


def driver():
    """The hypervisor driver of the host this thread acts for: a fleet's per-host driver,
    else the process-wide one (settings.LIBVIRT_URI; reconnects by itself)."""
    global _driver
    if _host_drivers:
        host_driver = _host_drivers.get(current_host())
        if host_driver is not None:
            return host_driver
    with _driver_lock:
        if _driver is None:
            _driver = get_driver()
            _driver.host = current_host()
        return _driver


# --- paths -------------------------------------------------------------------------------------


def instance_dir(instance: Instance) -> Path:
    return Path(settings.INSTANCES_PATH) / instance.name


def disk_path(instance: Instance) -> Path:
    return instance_dir(instance) / DISK_NAME


def console_path(instance: Instance) -> Path:
    return instance_dir(instance) / "console.log"


# --- network -----------------------------------------------------------------------------------


def requested_networks(instance: Instance) -> list[Network]:
    """The networks the instance asked for (uuids stored at create time), none for a server
    created with `networks: "none"` (2.37), else the default networks visible to its project
    (its own first, then shared ones: one network)."""
    if instance.requested_networks == "none":
        return []
    requested = [entry for entry in (instance.requested_networks or []) if isinstance(entry, dict)]
    if requested:
        networks = []
        for entry in requested:
            network = Network.objects.filter(uuid=entry.get("uuid")).first()
            if network is None:
                raise Invalid(f"Network {entry.get('uuid')} could not be found.")
            networks.append(network)
        return networks
    if vlan_service.is_vlan():
        return [vlan_service.network_for_project(instance.project_id)]
    visible = network_service.visible_networks(instance.project_id, is_admin=False)
    network = visible.filter(project_id=instance.project_id).order_by("id").first() or visible.order_by("id").first()
    if network is None:
        raise Invalid("No network is available for the instance: an operator must create one (network create).")
    return [network]


def allocate_network(instance: Instance, host: str) -> list:
    """A fixed IP on each network, and its DHCP entry live on the serving host's dnsmasq."""
    rows = []
    for network in requested_networks(instance):
        row = fixed_ip_service.allocate_fixed_ip(network, instance.uuid, host=host, hostname=instance.hostname)
        network_host.prepare_instance_network(network, host)
        rows.append(row)
    host_hooks.after_network(instance, host)
    return rows


def release_network(instance: Instance, host: str) -> list:
    """Give the addresses back and drop their DHCP entries (nothing the second time)."""
    released = fixed_ip_service.release_fixed_ip(instance.uuid)
    for network_id in sorted({row.network_id for row in released}):
        network = Network.all_objects.filter(pk=network_id).first()
        if network is None or network.is_deleted:
            continue
        try:
            network_host.prepare_instance_network(network, host)
        except Exception:  # supervision regenerates the hosts file from the DB anyway
            log.exception("could not refresh DHCP of network %s after releasing %s", network.label, instance.uuid)
    return released


def move_addresses(instance: Instance, host: str) -> list:
    """The instance's fixed IPs (the same addresses) recorded on `host` again, nothing else:
    that host's agent makes them live with allocate_network."""
    return [fixed_ip_service.allocate_fixed_ip(network, instance.uuid, host=host, hostname=instance.hostname)
            for network in requested_networks(instance)]


def left_host(instance: Instance, host: str) -> None:
    """The instance moved away from `host` (which runs this): its DHCP entry there and its
    host state (security-group chain, ...) go; its addresses stay the instance's."""
    for network in requested_networks(instance):
        try:
            network_host.prepare_instance_network(network, host)
        except Exception:  # supervision regenerates the hosts file from the DB anyway
            log.exception("could not refresh DHCP of network %s on %s", network.label, host)
    host_hooks.left_host(instance, host)


# --- disk --------------------------------------------------------------------------------------


def _image(image_id: str, what: str) -> Image:
    try:
        image = Image.all_objects.filter(id=uuid_lib.UUID(str(image_id))).first() if image_id else None
    except ValueError:
        image = None
    if image is None or image.status != "active":
        raise ImageUnavailable(f"{what} {image_id} is not available (missing, deleted or not active).")
    return image


def _cached(image_id: str, what: str, image: Image | None = None) -> Path:
    try:
        return image_cache.ensure_cached(image or _image(image_id, what))
    except image_cache.CacheError as exc:
        raise ImageUnavailable(f"{what} {image_id} could not be fetched: {exc}") from exc


def _boot_files(instance: Instance) -> dict:
    """The instance's kernel and ramdisk images cached on this host."""
    paths = {}
    if instance.kernel_id:
        paths["kernel"] = str(_cached(instance.kernel_id, "Kernel image"))
    if instance.ramdisk_id:
        paths["ramdisk"] = str(_cached(instance.ramdisk_id, "Ramdisk image"))
    return paths


def prepare_disk(instance: Instance, replace: bool = False) -> dict:
    """Cache the image (and kernel/ramdisk) on this host and create the instance's qcow2
    overlay on the base. An existing overlay is kept (re-delivered task) unless `replace`.
    A server booting from a volume gets the volume attached as its root disk instead."""
    root_volume = host_hooks.root_volume(instance, prepare=True)
    if root_volume is not None:
        instance_dir(instance).mkdir(parents=True, exist_ok=True)
        return {"root_volume": root_volume["path"], **_boot_files(instance)}
    image = _image(instance.image_ref, "Image")
    base = _cached(image.id, "Image", image)
    paths = {"base": str(base), **_boot_files(instance)}
    disk = disk_path(instance)
    if replace:
        disk.unlink(missing_ok=True)
    if not disk.exists():
        tmp = disk.with_name(disk.name + ".part")
        tmp.unlink(missing_ok=True)
        image_cache.create_overlay(base, tmp, size_gb=instance.root_gb or None,
                                   backing_format=image_cache.backing_format(image))
        tmp.replace(disk)
    paths["disk"] = str(disk)
    return paths


# --- the domain --------------------------------------------------------------------------------


def nics(instance: Instance) -> list[Nic]:
    rows = fixed_ip_service.fixed_ips_of_instance(instance.uuid)
    return [Nic(mac=row.mac_address, bridge=row.network.bridge) for row in rows if row.mac_address]


def kernel_cmdline(instance: Instance, image_cmdline: str | None) -> str | None:
    """The image's command line, plus `ip=` when the first NIC is on a Flat (injected)
    network: the guest's only way to learn its address there (no DHCP)."""
    rows = [row for row in fixed_ip_service.fixed_ips_of_instance(instance.uuid) if row.mac_address]
    if not rows or not rows[0].network.injected:
        return image_cmdline
    network = rows[0].network
    hostname = sanitize_hostname(instance.hostname, fallback=f"host-{str(instance.uuid)[:8]}")
    fields = [validate.ipv4(rows[0].address), "", validate.ipv4(network.gateway), validate.ipv4(network.netmask),
              hostname, "eth0", "off"]
    if network.dns1:
        fields.append(validate.ipv4(network.dns1))
    return " ".join(filter(None, [image_cmdline or DEFAULT_KERNEL_CMDLINE, "ip=" + ":".join(fields)]))


def build_spec(instance: Instance) -> InstanceSpec:
    kernel = cached_if(instance.kernel_id)
    ramdisk = cached_if(instance.ramdisk_id)
    cmdline = kernel_cmdline(instance, (instance.image_properties or {}).get("os_command_line")) if kernel else None
    return InstanceSpec(
        uuid=str(instance.uuid),
        name=instance.name,
        display_name=instance.display_name,
        memory_mb=instance.memory_mb,
        vcpus=instance.vcpus,
        disk_path=str(disk_path(instance)),
        console_log_path=str(console_path(instance)),
        kernel_path=kernel,
        initrd_path=ramdisk if kernel else None,
        cmdline=cmdline or None,
        nics=nics(instance),
        virt_type=settings.VIRT_TYPE,
        volumes=host_hooks.extra_disks(instance),
        root_volume=host_hooks.root_volume(instance),
        vnc_listen=settings.VNC_LISTEN,
        host=instance.host or None,
    )


def cached_if(image_id: str) -> str | None:
    if not image_id:
        return None
    path = image_cache.cached_path(image_id)
    return str(path) if path.exists() else str(_cached(image_id, "Image"))


# --- teardown ----------------------------------------------------------------------------------


def remove_files(instance: Instance) -> bool:
    directory = instance_dir(instance)
    if directory.name != instance.name or not NAME_RE.match(instance.name) or not directory.is_dir():
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


def cleanup(instance: Instance, host: str, keep_network: bool = False) -> dict:
    """Remove the domain (by uuid: a foreign domain of the same name is never touched), the
    instance directory (overlay, console log) and, unless keep_network, the fixed IPs and
    their DHCP entries. Raises DriverError if the hypervisor refused: the caller keeps the
    host on the instance so that a later delete retries."""
    removed_domain = driver().destroy(str(instance.uuid))
    removed_files = remove_files(instance)
    host_hooks.before_cleanup(instance, host)
    released = [] if keep_network else [row.address for row in release_network(instance, host)]
    log.info("cleaned up instance %s on %s: domain %s, files %s, addresses %s",
             instance.uuid, host, removed_domain, removed_files, released)
    return {"domain": removed_domain, "files": removed_files, "addresses": released}
