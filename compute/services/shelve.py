"""Shelve, shelve-offload and unshelve (Nova's).

    shelve_server(ctx, instance)        the guest powered off, its disk uploaded as a private
                                        snapshot image (`<name>-shelved`, property
                                        shelved_instance=<uuid>): SHELVED; offloaded at once when
                                        SHELVE_OFFLOAD_IMMEDIATELY (Nova's default
                                        shelved_offload_time 0)
    shelve_offload_server(ctx, inst)    SHELVED -> SHELVED_OFFLOADED: domain, files and capacity
                                        claim released, no host; the fixed IPs stay the server's
    unshelve_server(ctx, instance)      SHELVED: started again where it is; SHELVED_OFFLOADED:
                                        scheduled like a boot (any host), its disk made from the
                                        shelved image, started -> ACTIVE, the image deleted

The host work runs through lifecycle.run_action (`shelve_on_host`, `offload_on_host`,
`unshelve_on_host`) under the instance's lock, except an offloaded server's unshelve:
`compute.unshelve_schedule` on `scheduler`, then `compute.unshelve_spawn` on the chosen host.
A failure leaves the server as it was (SHELVED_OFFLOADED with its image for an unshelve that
failed on the host: its claim, files and domain there given back) and a fault.
"""
import logging

from django.db import transaction

from cloudproj import rpc
from cloudproj.exceptions import Conflict, Invalid
from cloudproj.host.locks import instance_lock
from images.models import Image
from images.services import registry as image_service

from .. import states
from ..models import Instance
from ..scheduler import NoValidHost, claims
from .actions import event, finish_action, get_action, record_fault
from .instances import UnexpectedTaskState, begin, update_state
from .snapshots import SNAPSHOT_DISK_FORMAT, _inherited
from . import hosts as hosts_service
from . import volume_backed

log = logging.getLogger(__name__)

T = states.task
SHELVED_PROPERTY = "shelved_instance"


def _request_id(ctx) -> str:
    return getattr(ctx, "request_id", None) or "-"


def shelved_image(instance: Instance) -> Image | None:
    """The active image of the server's last shelve (None when there is none)."""
    return (Image.objects.filter(**{f"properties__{SHELVED_PROPERTY}": str(instance.uuid)}, status=Image.ACTIVE)
            .order_by("-created_at").first())


# --- API side ----------------------------------------------------------------------------------


def shelve_server(ctx, instance: Instance) -> Image:
    states.check_allowed(instance, "shelve", is_admin=getattr(ctx, "is_admin", False))
    volume_backed.refuse(instance, "shelve")
    if not instance.host:
        raise Conflict(f"Cannot 'shelve' instance {instance.uuid} while it has no host.")
    properties = {**_inherited(instance), "image_type": "snapshot", "instance_uuid": str(instance.uuid),
                  "base_image_ref": instance.image_ref or "", SHELVED_PROPERTY: str(instance.uuid)}
    with transaction.atomic():
        begin(instance, "shelve", ctx, task_state=T.SHELVING)
        image = image_service.create_image(
            f"{instance.display_name}-shelved"[:255], SNAPSHOT_DISK_FORMAT, "bare", owner=instance.project,
            visibility=Image.PRIVATE, properties=properties, min_disk=instance.root_gb or 0,
        )
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "shelve",
                            {"image_id": str(image.id), "was": instance.vm_state})
    return image


def shelve_offload_server(ctx, instance: Instance) -> None:
    states.check_allowed(instance, "shelveOffload", is_admin=getattr(ctx, "is_admin", False))
    with transaction.atomic():
        begin(instance, "shelveOffload", ctx, task_state=T.SHELVING_OFFLOADING)
        rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "shelveOffload", {})


def unshelve_server(ctx, instance: Instance, availability_zone: str | None = None) -> None:
    """availability_zone (compute API 2.77): where an offloaded server is scheduled (and then
    stays); 409 for a server still on its host, 400 for an unknown zone."""
    states.check_allowed(instance, "unshelve", is_admin=getattr(ctx, "is_admin", False))
    if instance.vm_state == states.SHELVED_OFFLOADED and shelved_image(instance) is None:
        raise Conflict(f"Instance {instance.uuid} has no shelved image to unshelve from.")
    if availability_zone is not None:
        if instance.vm_state != states.SHELVED_OFFLOADED:
            raise Conflict(f"The availability_zone of instance {instance.uuid} can only be changed when it is "
                           f"shelved offloaded (it is {instance.vm_state}).")
        if availability_zone not in {name for name, _up in hosts_service.availability_zones()}:
            raise Invalid("The requested availability zone is not available")
    with transaction.atomic():
        if availability_zone is not None:
            update_state(instance, availability_zone=availability_zone)
        begin(instance, "unshelve", ctx, task_state=T.UNSHELVING)
        if instance.vm_state == states.SHELVED:
            rpc.instance_action(instance.host, str(instance.uuid), _request_id(ctx), "unshelve", {})
        else:
            rpc.unshelve_schedule(str(instance.uuid), _request_id(ctx))


def _delete_shelved_images(instance: Instance) -> None:
    for image in Image.objects.filter(**{f"properties__{SHELVED_PROPERTY}": str(instance.uuid)}):
        try:
            image_service.delete_image(image)
        except Exception:  # the server is back; a leftover image is the user's to delete
            log.exception("could not delete the shelved image %s of %s", image.id, instance.uuid)


# --- unshelve of an offloaded server -----------------------------------------------------------


def unshelve_schedule(instance_uuid, request_id: str) -> str | None:
    """On `scheduler`: a host for the offloaded server, its claim, then the host's step."""
    with instance_lock(f"unshelve-{instance_uuid}"):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.vm_state != states.SHELVED_OFFLOADED or instance.task_state != T.UNSHELVING:
            return None
        action = get_action(instance, request_id, "unshelve")
        if instance.host:  # a scheduler died after its claim: claim again
            claims.release(None, instance, clear_host=True)
        update_state(instance, retry={})
        try:
            with event(action, "schedule"):
                claim = claims.schedule_and_claim(instance)
        except (NoValidHost, claims.ClaimFailed) as exc:
            _back_to_offloaded(instance, action, exc, None)
            return None
        rpc.unshelve_spawn(claim.host, str(instance.uuid), request_id)
        return claim.host


def _back_to_offloaded(instance: Instance, action, exc, host: str | None) -> None:
    claims.release(host, instance, clear_host=True)
    try:
        with transaction.atomic():
            update_state(instance, expected_task_state=T.UNSHELVING, task_state=None, host=None, node=None)
            record_fault(instance, exc, host=host)
            if action is not None:
                finish_action(action, "Error")
    except UnexpectedTaskState:
        pass


def on_instance_deleted(instance: Instance) -> None:
    """A deleted server's shelved image goes with it (once the delete is committed)."""
    if Image.objects.filter(**{f"properties__{SHELVED_PROPERTY}": str(instance.uuid)}).exists():
        transaction.on_commit(lambda: _delete_shelved_images(instance))
