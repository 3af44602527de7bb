"""What the API asks of servers: validated, recorded, and handed to the right queue.

    create_servers(ctx, **create_args) -> [Instance]     instances + a schedule task each
    delete_server(ctx, instance)                         on its host, or here if it has none
    request_action(ctx, instance, action, reboot_type=None)   reboot/stop/start/pause/...
    rebuild_server(ctx, instance, image, name=None, metadata=None)
    rename_server(ctx, instance, name)
    console_output(ctx, instance, length=None) -> str

Views call these and render; the host work happens in compute.<host> tasks
(compute/services/lifecycle.py). Every call records an InstanceAction with the request id.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from network.models import Network
from volumes.services import boot as boot_service
from network.services import NetworkNotFound
from network.services import fixed_ips as fixed_ip_service
from network.services import serving as network_serving
from network.services import networks as network_service
from network.services import ports as network_ports
from network.services import vlan as vlan_service

from cloudproj import rpc

from .. import states
from ..models import Instance, Service
from . import create_extensions, server_groups, volume_backed
from . import tags as tag_service
from .actions import finish_action, start_action
from cloudproj.exceptions import Conflict, Invalid, ServiceUnavailable

from .instances import begin, create_instances, soft_delete, update_state, validate_image, validate_metadata, validate_name

log = logging.getLogger(__name__)

T = states.task

# API action -> the task_state it sets while the host works
ACTION_TASK_STATES = {
    ("reboot", "SOFT"): T.REBOOTING,
    ("reboot", "HARD"): T.REBOOTING_HARD,
    ("stop", None): T.POWERING_OFF,
    ("start", None): T.POWERING_ON,
    ("pause", None): T.PAUSING,
    ("unpause", None): T.UNPAUSING,
    ("suspend", None): T.SUSPENDING,
    ("resume", None): T.RESUMING,
    ("rebuild", None): T.REBUILDING,
    ("rescue", None): T.RESCUING,
    ("unrescue", None): T.UNRESCUING,
    ("shelve", None): T.SHELVING,
    ("shelveOffload", None): T.SHELVING_OFFLOADING,
    ("unshelve", None): T.UNSHELVING,
    ("soft_delete", None): T.SOFT_DELETING,
    ("restore", None): T.RESTORING,
}


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


# --- create ------------------------------------------------------------------------------------


NO_NETWORK = "none"  # Instance.requested_networks of a server booted without a NIC


def resolve_networks(ctx, networks) -> list | str:
    """The API's `networks` ("auto", "none", or [{"uuid": ...}]) as [{"uuid": network uuid}]
    of networks the project may use; [] means the project's default network ("auto"), "none"
    no network at all (2.37: the server boots without a NIC). With the VLAN manager the default
    is the project's own network, assigned here on first use (400 if none is left)."""
    if networks in (None, "auto", []):
        if vlan_service.is_vlan() and ctx.project_id:
            return [{"uuid": str(vlan_service.network_for_project(ctx.project_id).uuid)}]
        return []
    if networks == NO_NETWORK:
        return NO_NETWORK
    if not isinstance(networks, list):
        raise Invalid("Invalid input for field/attribute networks.")
    resolved: list[dict] = []
    for entry in networks:
        if not isinstance(entry, dict):
            raise Invalid("Invalid input for field/attribute networks: each entry must be an object.")
        if entry.get("port"):
            network_ports.network_for_port_request(entry["port"])  # 409 PortInUse / 400: see there
        if entry.get("fixed_ip"):
            raise Invalid("Requesting a specific fixed IP is not supported.")
        network_id = entry.get("uuid")
        if not network_id:
            raise Invalid("Invalid input for field/attribute networks: 'uuid' is required.")
        try:
            network = network_service.get_network(network_id, ctx.project_id, getattr(ctx, "is_admin", False))
        except NetworkNotFound:
            raise Invalid(f"Network {network_id} could not be found.") from None
        if any(item["uuid"] == str(network.uuid) for item in resolved):
            raise Invalid(f"Network {network_id} was requested twice.")
        resolved.append({"uuid": str(network.uuid)})
    return resolved


def create_servers(ctx, name, flavor, image, networks=None, security_groups=None, boot_volume=None,
                   tags=None, **kwargs) -> list[Instance]:
    """Create the instances (quota reserved, one transaction) and queue their boots. The
    requested security groups must exist in the project (400); none means `default`.
    boot_volume ({"source": "image"|"volume", "uuid", "volume_size", "delete_on_termination"}):
    the root disk is that volume, or a new one made from the image (volumes.services.boot).
    tags: the servers' tags (compute.services.tags.validate_tags'd)."""
    requested = resolve_networks(ctx, networks)
    server_group = server_groups.group_for_create(ctx, kwargs.get("scheduler_hints"))
    if boot_volume and image is None:
        image = _image_of_volume(boot_service.source_image(ctx, boot_volume) or {})
    with transaction.atomic():
        groups = create_extensions.security_groups_for_create(ctx.project_id, security_groups) if ctx.project else []
        instances = create_instances(ctx, name, flavor, image, networks=requested,
                                     security_groups=[group.name for group in groups],
                                     boot_from_volume=bool(boot_volume), **kwargs)
        if boot_volume:
            boot_service.reserve_for(ctx, instances, boot_volume)
        create_extensions.join_security_groups(instances, groups)
        tag_service.set_on_create(instances, tags)  # 2.52: validated by the API
        server_groups.add_members(server_group, instances, getattr(ctx, "project", None))
        transaction.on_commit(lambda: _queue_boots(ctx, instances))
    return instances


def _image_of_volume(image_metadata: dict) -> dict:
    """A server booting from an existing volume takes its image's kernel, ramdisk and properties
    from the volume's image metadata (none for a volume not made from an image)."""
    standard = {"image_id", "image_name", "disk_format", "container_format", "min_disk", "min_ram", "size",
                "checksum", "kernel_id", "ramdisk_id"}
    return {
        "id": image_metadata.get("image_id") or "volume", "status": "active",
        "properties": {key: value for key, value in image_metadata.items() if key not in standard},
        "min_ram": image_metadata.get("min_ram") or 0,
        "kernel_id": image_metadata.get("kernel_id"), "ramdisk_id": image_metadata.get("ramdisk_id"),
    }


def _queue_boots(ctx, instances: list[Instance]) -> None:
    """One schedule message per created instance, sent after the commit (the scheduler must
    see the rows). If the broker stays down past BROKER_PUBLISH_RETRY_TIMEOUT, the servers
    not queued are deleted again (quota given back) and the request answers 503: a server
    is either on its way or gone, never stuck in BUILD without a message."""
    for index, instance in enumerate(instances):
        try:
            rpc.schedule_instance(str(instance.uuid), _request_id(ctx))
        except ServiceUnavailable:
            for unsent in instances[index:]:
                soft_delete(unsent)
            log.warning("broker unreachable: %d server(s) not created", len(instances) - index)
            raise


# --- delete ------------------------------------------------------------------------------------


def compute_is_up(host: str | None) -> bool:
    if not host:
        return False
    service = Service.objects.filter(host=host, binary="nova-compute").first()
    return service is not None and service.is_up


def _locked_unless_deleted(instance: Instance) -> Instance | None:
    """The row locked FOR UPDATE (inside a transaction), or None when it is deleted already."""
    row = Instance.all_objects.select_for_update().get(pk=instance.pk)
    return None if row.deleted_at is not None else row


def delete_server(ctx, instance: Instance) -> None:
    """Delete in any state. With a live host: task_state deleting and the host tears the
    domain, disk and address down. Without one (never scheduled, rolled back, or the host
    is down): released here, and the host's leftovers are reaped when it comes back.

    With RECLAIM_INSTANCE_INTERVAL > 0, a server on a live host with no task under way is
    soft-deleted instead: its host powers it off (SOFT_DELETED), everything it holds is kept
    until `restore` or the reclaim; deleting a SOFT_DELETED server (or forceDelete) is final."""
    states.check_allowed(instance, "delete", is_admin=getattr(ctx, "is_admin", False))
    if (int(settings.RECLAIM_INSTANCE_INTERVAL) > 0
            and states.is_allowed(instance.vm_state, instance.task_state, "soft_delete")
            and compute_is_up(instance.host)):
        request_action(ctx, instance, "soft_delete")
        return
    _delete_now(ctx, instance)


def _delete_now(ctx, instance: Instance) -> None:
    with transaction.atomic():
        row = _locked_unless_deleted(instance)
        if row is None:
            return
        action = start_action(row, "delete", ctx)
        update_state(row, task_state=T.DELETING)
        if compute_is_up(row.host):
            rpc.terminate_instance(row.host, str(row.uuid), _request_id(ctx))
            instance.task_state = row.task_state
            return
        release_addresses(row)
        soft_delete(row)
        finish_action(action)
    instance.deleted_at, instance.vm_state, instance.task_state = row.deleted_at, row.vm_state, row.task_state
    log.info("instance %s deleted locally (host %s is not up)", row.uuid, row.host or "none")


def reclaim_soft_deleted(now=None) -> list[str]:
    """Soft-deleted servers older than RECLAIM_INSTANCE_INTERVAL deleted for good (Nova's
    _reclaim_queued_deletes); their uuids."""
    interval = int(settings.RECLAIM_INSTANCE_INTERVAL)
    if interval <= 0:
        return []
    cutoff = (now or timezone.now()) - timedelta(seconds=interval)
    reclaimed = []
    for instance in Instance.objects.filter(vm_state=states.SOFT_DELETED, task_state=None, updated_at__lt=cutoff):
        try:
            _delete_now(None, instance)
        except Conflict as exc:  # restored or deleted meanwhile
            log.info("soft-deleted instance %s not reclaimed: %s", instance.uuid, exc)
            continue
        reclaimed.append(str(instance.uuid))
        log.info("soft-deleted instance %s reclaimed (after %ss)", instance.uuid, interval)
    return reclaimed


def release_addresses(instance: Instance) -> list:
    """Fixed IPs back to the pool; the serving hosts regenerate their DHCP hosts file."""
    released = fixed_ip_service.release_fixed_ip(instance.uuid)
    for row in released:
        network = Network.all_objects.filter(pk=row.network_id).first()
        if network is None or network.is_deleted:
            continue
        target = network_serving.serving_host(network, instance.host) if (instance.host or network.host) else None
        if target:
            network_serving.request_refresh(network, target)
    return released


def inject_network_info(ctx, instance: Instance) -> list[str]:
    """Nova's admin injectNetworkInfo. Guests here take their network from DHCP, so what is
    pushed again is the DHCP hosts entry of each of the instance's fixed addresses: the hosts
    serving its networks regenerate them from the database (after commit). Recorded as an
    instance action; 409 while the instance has no host. The queues asked, for the log."""
    host = _require_host(instance, "injectNetworkInfo")
    with transaction.atomic():
        action = start_action(instance, "injectNetworkInfo", ctx)
        queues = _push_dhcp_entries(instance, host)
        finish_action(action)
    log.info("network info of instance %s pushed again (%s)", instance.uuid, ", ".join(queues) or "no addresses")
    return queues


def _push_dhcp_entries(instance: Instance, host: str) -> list[str]:
    queues = []
    for row in fixed_ip_service.fixed_ips_of_instance(instance.uuid):
        network = Network.objects.filter(pk=row.network_id).first()
        if network is not None:
            queues.append(network_serving.request_refresh(network, network_serving.serving_host(network, host)))
    return queues


EXTERNAL_EVENTS = ("network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted",
                   "volume-extended", "power-update", "volume-reimaged", "accelerator-request-bound")


def external_event(instance: Instance, name: str) -> int:
    """One event of Nova's os-server-external-events (sent by other services): the code it
    gets. `network-changed` has the instance's DHCP entries rewritten from the database (this
    cloud's network info cache); the others need nothing here and are accepted. An instance
    not on a host yet is a 422, as in Nova."""
    if not instance.host:
        return 422
    if name == "network-changed":
        with transaction.atomic():
            _push_dhcp_entries(instance, instance.host)
    log.info("external event %s for instance %s", name, instance.uuid)
    return 200


# --- actions -----------------------------------------------------------------------------------


def _require_host(instance: Instance, action: str) -> str:
    if not instance.host:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it has no host.")
    return instance.host


def request_action(ctx, instance: Instance, action: str, reboot_type: str | None = None) -> None:
    """reboot (SOFT/HARD), stop, start, pause, unpause, suspend, resume, soft_delete,
    restore: 409 unless the state allows it; then task_state moves and the host does the work."""
    if action == "reboot":
        reboot_type = (reboot_type or "SOFT").upper()
        if reboot_type not in ("SOFT", "HARD"):
            raise Invalid("Invalid input for field/attribute type: must be SOFT or HARD.")
    key = (action, reboot_type if action == "reboot" else None)
    if key not in ACTION_TASK_STATES:
        raise Invalid(f"Unknown action {action}.")
    states.check_allowed(instance, action, reboot_type=reboot_type, is_admin=getattr(ctx, "is_admin", False))
    host = _require_host(instance, action)
    with transaction.atomic():
        begin(instance, action, ctx, task_state=ACTION_TASK_STATES[key], reboot_type=reboot_type)
        rpc.instance_action(host, str(instance.uuid), _request_id(ctx), action, {"reboot_type": reboot_type})


def rebuild_server(ctx, instance: Instance, image, name: str | None = None, metadata=None) -> Instance:
    """Same server, same addresses, a fresh disk from `image` (a mapping as create takes)."""
    states.check_allowed(instance, "rebuild", is_admin=getattr(ctx, "is_admin", False))
    volume_backed.refuse(instance, "rebuild")
    host = _require_host(instance, "rebuild")
    image_info = validate_image(image, instance)
    changes = {
        "image_ref": image_info["id"], "image_properties": image_info["properties"],
        "kernel_id": image_info["kernel_id"], "ramdisk_id": image_info["ramdisk_id"],
    }
    if name is not None:
        changes["display_name"] = validate_name(name)
    if metadata is not None:
        changes["metadata"] = validate_metadata(instance.project_id, metadata)
    with transaction.atomic():
        begin(instance, "rebuild", ctx, task_state=T.REBUILDING)
        update_state(instance, expected_task_state=T.REBUILDING, **changes)
        rpc.instance_action(host, str(instance.uuid), _request_id(ctx), "rebuild", {})
    return instance


def rename_server(ctx, instance: Instance, name: str) -> Instance:
    states.check_allowed(instance, "update", is_admin=getattr(ctx, "is_admin", False))
    update_state(instance, display_name=validate_name(name))
    return instance


def console_output(ctx, instance: Instance, length=None) -> str:
    """The tail of the serial console log, read by the instance's host (at most `length`
    lines, never more than CONSOLE_OUTPUT_MAX_BYTES: a large log never travels whole)."""
    states.check_allowed(instance, "get_console_output", is_admin=getattr(ctx, "is_admin", False))
    if not instance.host:
        raise Conflict(f"Instance {instance.uuid} has no host yet: there is no console output.")
    return rpc.console_output(instance.host, str(instance.uuid), length)


# --- admin repairs -----------------------------------------------------------------------------

RESET_STATES = {"active": states.ACTIVE, "error": states.ERROR}


def reset_state(ctx, instance: Instance, state) -> Instance:
    """Nova's os-resetState (admins): vm_state active or error, the task cleared. Only the row
    changes; a host still working on the old task finds its task_state gone and stops."""
    if not isinstance(state, str) or state.lower() not in RESET_STATES:
        raise Invalid("Invalid input for field/attribute state: must be 'active' or 'error'.")
    if instance.deleted_at is not None:
        raise Conflict(f"Cannot 'resetState' instance {instance.uuid} while it is in vm_state deleted")
    with transaction.atomic():
        action = start_action(instance, "resetState", ctx)
        update_state(instance, vm_state=RESET_STATES[state.lower()], task_state=None)
        finish_action(action)
    log.info("instance %s reset to %s by %s", instance.uuid, state.lower(), getattr(ctx, "user_id", "-"))
    return instance


def force_delete(ctx, instance: Instance) -> None:
    """Delete whatever the vm and task states, without waiting for the host: addresses,
    claim, quota, floating IPs, group memberships and volume attachments are released now and
    the row is soft-deleted. The host then removes the domain and disk (if it is up; else
    the running-deleted reconciliation finds them when it comes back)."""
    states.check_allowed(instance, "force_delete", is_admin=getattr(ctx, "is_admin", False))
    with transaction.atomic():
        row = _locked_unless_deleted(instance)
        if row is None:
            return
        action = start_action(row, "forceDelete", ctx)
        release_addresses(row)
        soft_delete(row)
        finish_action(action)
        if compute_is_up(row.host):
            rpc.reap_deleted_instance(row.host, str(row.uuid))
    instance.deleted_at, instance.vm_state, instance.task_state = row.deleted_at, row.vm_state, row.task_state
    log.info("instance %s force-deleted (host %s)", row.uuid, row.host or "none")
