"""Volumes as the API sees them: create (quota, schedule, then the host's `volume.<host>`
queue), update, extend, delete, and lookups.

Status changes the API makes are conditional UPDATEs (`_transition`): of two concurrent
requests on one volume only one wins, the other gets a 400/409 as Cinder answers.
Quota: `volumes` and `gigabytes` are reserved and committed with the row (so an errored
volume still counts, as in Cinder, until it is deleted); a delete gives them back once the
host has removed the storage. The volume type's own `volumes_<type>`, `gigabytes_<type>` (and
`snapshots_<type>` for snapshots) go with them (`with_type`); a retype moves them.
"""
import logging
import uuid as uuid_lib

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from cloudproj.exceptions import Conflict, Invalid, NotFound, OverQuota
from identity.services import quotas
from images.services import registry

from .. import states
from ..models import DEFAULT_TYPE_NAME, Snapshot, Volume, VolumeAttachment, VolumeHost, VolumeTransfer
from . import messages, scheduler, types

log = logging.getLogger(__name__)

MAX_NAME = 255


def _uuid(value, what: str):
    try:
        return uuid_lib.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} {value} could not be found.") from None


def get_volume(ctx, volume_id, lock: bool = False) -> Volume:
    """The live volume by id; another project's (for non-admins) is reported missing."""
    key = _uuid(volume_id, "Volume")
    qs = Volume.objects.select_for_update() if lock else Volume.objects
    volume = qs.filter(uuid=key).first()
    if volume is None or (ctx is not None and not ctx.is_admin and volume.project_id != ctx.project_id):
        raise NotFound(f"Volume {volume_id} could not be found.")
    return volume


TRUE_WORDS, FALSE_WORDS = ("t", "true", "1"), ("f", "false", "0")


def bootable_filter(value, strict: bool) -> bool:
    """Cinder's `bootable` list filter: before 3.2 only false/False mean non-bootable and any other
    value bootable; from 3.2 t/true/1 and f/false/0 (any case), anything else is refused."""
    text = str(value).strip().lower()
    if not strict:
        return str(value) not in ("false", "False")
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise Invalid(f"Invalid input received: bootable={value}")


def volumes_for(ctx, all_tenants: bool = False, filters: dict | None = None, strict_bootable: bool = False):
    qs = Volume.objects.select_related("attachment", "volume_type", "source_volume")
    if not (all_tenants and ctx.is_admin):
        qs = qs.filter(project_id=ctx.project_id)
    for key, value in (filters or {}).items():
        if key in ("name", "status", "availability_zone", "project_id"):
            qs = qs.filter(**{key: value})
        elif key == "bootable":
            qs = qs.filter(bootable=bootable_filter(value, strict_bootable))
        elif key == "metadata":
            qs = qs.filter(metadata__contains=value)
        elif key == "glance_metadata":
            qs = qs.filter(image_metadata__contains=value)
    return qs


def set_bootable(volume: Volume, bootable) -> Volume:
    """Cinder's os-set_bootable: only the flag on the row changes."""
    flag = types.parse_bool(bootable, "bootable")
    if volume.status not in (states.AVAILABLE, states.IN_USE):
        raise Invalid(f"Invalid volume: Volume status must be available or in-use to set the bootable flag, "
                      f"but current status is: {volume.status}.")
    Volume.objects.filter(pk=volume.pk).update(bootable=flag, updated_at=timezone.now())
    volume.refresh_from_db()
    return volume


def update_readonly_flag(volume: Volume, readonly) -> Volume:
    """Cinder's os-update_readonly_flag: an available volume's `readonly` flag; the next attach
    attaches it read-only (an attachment keeps the mode it was made with)."""
    flag = types.parse_bool(readonly, "readonly")
    if volume.status != states.AVAILABLE:
        raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be available to update readonly flag, "
                      f"but current status is: {volume.status}.")
    Volume.objects.filter(pk=volume.pk).update(readonly=flag, updated_at=timezone.now())
    volume.refresh_from_db()
    return volume


UPLOAD_FORMATS = ("raw", "qcow2", "vmdk", "vdi")  # image disk formats qemu-img writes


def upload_to_image(ctx, volume: Volume, image_name, disk_format="raw", container_format="bare", force=False,
                    visibility="private", protected=False):
    """Cinder's os-volume_upload_image: a new image (queued, the caller's project's) that the
    volume's host fills with the volume's data (`host.upload_to_image`); the volume is
    `uploading` meanwhile, then back to available (or in-use: `force` uploads an attached
    volume, crash-consistent). Returns (volume, image)."""
    if not isinstance(image_name, str) or not image_name.strip():
        raise Invalid("Invalid input for field/attribute os-volume_upload_image: 'image_name' is required.")
    if disk_format not in UPLOAD_FORMATS:
        raise Invalid(f"Invalid input received: disk_format must be one of {', '.join(UPLOAD_FORMATS)}, "
                      f"not {disk_format!r}.")
    force = types.parse_bool(force, "force")
    protected = types.parse_bool(protected, "protected")
    allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
    if volume.status not in allowed or volume.host is None:
        raise Invalid(f"Invalid volume: Volume {volume.uuid} status must be available{' or in-use' if force else ''}"
                      f" to upload it to an image, but current status is: {volume.status}.")
    with transaction.atomic():
        try:
            image = registry.create_image(image_name, disk_format, container_format, owner=volume.project_id,
                                          visibility=visibility, protected=protected)
        except registry.ImageError as exc:
            raise Invalid(f"Invalid input received: {exc}") from None
        if not transition(Volume, volume.pk, allowed, states.UPLOADING):
            raise Invalid(f"Invalid volume: Volume {volume.uuid} changed state; try again.")
        rpc.upload_volume_to_image(volume.host, volume.id, str(image.id))
    volume.refresh_from_db()
    return volume, image


def validate_size(size, field: str = "size") -> int:
    if isinstance(size, str) and size.strip().isdigit():
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 0x7FFFFFFF:
        raise Invalid(f"Invalid input received: {field} must be an integer (GiB) greater than 0, got {size!r}.")
    return size


def validate_text(value, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise Invalid(f"Invalid input received: {field} must be a string of at most {MAX_NAME} characters.")
    return value


def validate_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255 for k, v in metadata.items()
    ):
        raise Invalid("Invalid input received: metadata must be an object of strings (keys 1-255, values <= 255).")
    return metadata


def _over_quota(exc: quotas.OverQuota, size: int) -> OverQuota:
    gigabytes = [r for r in exc.overs if r == "gigabytes" or r.startswith("gigabytes_")]
    if gigabytes:
        resource = gigabytes[0]
        return OverQuota(f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
                         f"{resource} quota. Requested {size}G, quota is {exc.quotas[resource]}G and "
                         f"{exc.usages[resource]}G has been consumed.")
    resource = exc.overs[0]
    return OverQuota(f"Maximum number of {resource} allowed ({exc.quotas[resource]}) exceeded.")


def reserve(project_id: str, deltas: dict, size: int) -> None:
    """Reserve and commit at once (the caller's transaction holds the usage rows locked)."""
    try:
        quotas.commit(quotas.reserve(project_id, deltas))
    except quotas.OverQuota as exc:
        raise _over_quota(exc, size) from None


def give_back(project_id: str, deltas: dict) -> None:
    quotas.commit(quotas.reserve(project_id, {r: -d for r, d in deltas.items()}))


def type_name(volume: Volume) -> str:
    return volume.volume_type.name if volume.volume_type_id else DEFAULT_TYPE_NAME


def with_type(deltas: dict, name: str) -> dict:
    """`deltas` and the same changes of volume type `name`'s own resources (`volumes_<name>`,
    `gigabytes_<name>`, `snapshots_<name>`), when the type exists."""
    typed = {f"{r}_{name}": d for r, d in deltas.items() if r in quotas.PER_TYPE_RESOURCES}
    known = set(quotas.per_type_resources())
    return {**deltas, **{r: d for r, d in typed.items() if r in known}}


def _check_per_volume(project_id: str, size: int) -> None:
    limit = quotas.get_quotas(project_id)["per_volume_gigabytes"]
    if limit != quotas.UNLIMITED and size > limit:
        raise OverQuota(f"Requested volume size {size}G is larger than maximum allowed limit {limit}G.")


def _zone(availability_zone) -> str:
    if availability_zone in (None, ""):
        return settings.DEFAULT_AVAILABILITY_ZONE
    if not isinstance(availability_zone, str) or availability_zone not in scheduler.zones():
        raise Invalid(f"Invalid input received: Availability zone '{availability_zone}' is invalid.")
    return availability_zone


def _source_volume(ctx, source_volid) -> Volume:
    source = Volume.objects.filter(uuid=_uuid(source_volid, "Volume")).first()
    if source is None or (not ctx.is_admin and source.project_id != ctx.project_id):
        raise NotFound(f"Volume {source_volid} could not be found.")
    if source.status != states.AVAILABLE:
        raise Invalid(f"Invalid volume: Unable to create a volume from an originating source volume when its "
                      f"status is not 'available' (it is {source.status}).")
    return source


def _image(ctx, image_ref) -> dict:
    """The image a volume is made from: visible to the project and active; what the volume shows of it."""
    try:
        image = registry.get_visible(image_ref, ctx.project_id, ctx.is_admin)
    except registry.ImageNotFound:
        raise Invalid(f"Invalid image identifier or unable to access requested image {image_ref}.") from None
    if image.status != "active":
        raise Invalid(f"Invalid input received: Image {image_ref} is not active (status {image.status}).")
    return {
        "image_id": str(image.id), "image_name": image.name or "", "disk_format": image.disk_format or "",
        "container_format": image.container_format or "", "min_disk": str(image.min_disk),
        "min_ram": str(image.min_ram), "size": str(image.size or 0), "checksum": image.checksum or "",
        **{key: image.properties[key] for key in ("kernel_id", "ramdisk_id") if (image.properties or {}).get(key)},
        "_virtual_size": image.virtual_size or image.size or 0,
    }


def create_volume(ctx, size, name=None, description=None, availability_zone=None, snapshot_id=None,
                  metadata=None, volume_type=None, source_volid=None, image_ref=None) -> Volume:
    """A new volume: empty, or from a snapshot, another volume (a clone on the same host) or an
    image (written by the volume's host from its image cache). Only one source at a time."""
    name, description = validate_text(name, "name"), validate_text(description, "description")
    metadata = validate_metadata(metadata)
    sources = [k for k, v in (("snapshot_id", snapshot_id), ("source_volid", source_volid),
                              ("imageRef", image_ref)) if v not in (None, "")]
    if len(sources) > 1:
        raise Invalid(f"Invalid input received: only one of {', '.join(sources)} can be given.")
    vtype = types.resolve_for_volume(ctx, volume_type)
    snapshot = source = None
    image: dict = {}
    origin = None  # the volume whose host, zone, type and bootable flag a copy takes
    if snapshot_id not in (None, ""):
        snapshot = Snapshot.objects.filter(uuid=_uuid(snapshot_id, "Snapshot")).first()
        if snapshot is None or (not ctx.is_admin and snapshot.project_id != ctx.project_id):
            raise NotFound(f"Snapshot {snapshot_id} could not be found.")
        if snapshot.status != states.AVAILABLE:
            raise Invalid(f"Invalid snapshot: Originating snapshot status must be available, not {snapshot.status}.")
        origin, minimum, what = snapshot.volume, snapshot.size, "snapshot"
    elif source_volid not in (None, ""):
        source = _source_volume(ctx, source_volid)
        origin, minimum, what = source, source.size, "source volume"
    elif image_ref not in (None, ""):
        image = _image(ctx, image_ref)
        minimum = max(int(image["min_disk"]), -(-int(image.pop("_virtual_size")) // 1024 ** 3), 1)
        what = "image"
    if origin is not None:
        size = minimum if size is None else size
        if volume_type in (None, "") and origin.volume_type_id:
            vtype = origin.volume_type  # as Cinder: the source's type
    size = validate_size(size)
    if sources and size < minimum:
        raise Invalid(f"Invalid input received: Volume size '{size}'GB cannot be smaller than the {what} "
                      f"size {minimum}GB. They must be >= original {what} size.")
    zone = _zone(availability_zone if origin is None else (availability_zone or origin.availability_zone))
    _check_per_volume(ctx.project_id, size)
    with transaction.atomic():
        reserve(ctx.project_id, with_type({"volumes": 1, "gigabytes": size},
                                          vtype.name if vtype is not None else DEFAULT_TYPE_NAME), size)
        specs = (vtype.extra_specs or {}) if vtype is not None else {}
        host = scheduler.pick_host(size, zone, host=origin.host if origin is not None else None,
                                   backend=specs.get("volume_backend_name"),
                                   wanted=scheduler.wanted_capabilities(specs))
        volume = Volume.objects.create(
            name=name, description=description, size=size, availability_zone=zone, project_id=ctx.project_id,
            user_id=ctx.user_id, host=host, snapshot=snapshot, source_volume=source, metadata=metadata,
            volume_type=vtype, bootable=origin.bootable if origin is not None else bool(image),
            image_id=image.get("image_id"), image_metadata=image,
        )
        if host is None:
            volume.status = states.ERROR
            volume.error_message = ("No valid host was found: no live volume host has enough free capacity "
                                    "and the back end its type asks for.")
            volume.save(update_fields=["status", "error_message", "updated_at"])
            messages.record(ctx.project_id, messages.VOLUME, volume.uuid, messages.SCHEDULE_ALLOCATE_VOLUME,
                            messages.NO_BACKEND_AVAILABLE)
        else:
            volume.driver = VolumeHost.objects.get(host=host).driver
            volume.save(update_fields=["driver", "updated_at"])
            rpc.create_volume(host, volume.id)
    log.info("volume %s (%sG) for project %s scheduled to %s", volume.ec2_id, size, ctx.project_id, host)
    return volume


def update_volume(ctx, volume: Volume, name=None, description=None, metadata=None) -> Volume:
    fields = []
    if name is not None:
        volume.name = validate_text(name, "name")
        fields.append("name")
    if description is not None:
        volume.description = validate_text(description, "description")
        fields.append("description")
    if metadata is not None:
        volume.metadata = validate_metadata(metadata)
        fields.append("metadata")
    if fields:
        volume.save(update_fields=[*fields, "updated_at"])
    return volume


def transition(model, pk: int, allowed: tuple, new_status: str, **fields) -> bool:
    """Set `new_status` only if the row's status is one of `allowed` (one UPDATE)."""
    rows = model.objects.filter(pk=pk, status__in=allowed).update(status=new_status, updated_at=timezone.now(),
                                                                 **fields)
    return rows == 1


def extend_volume(ctx, volume: Volume, new_size) -> Volume:
    new_size = validate_size(new_size, "new_size")
    if volume.status != states.AVAILABLE:
        raise Invalid(f"Invalid volume: Volume status must be available to extend, but current status is: "
                      f"{volume.status}.")
    if new_size <= volume.size:
        raise Invalid(f"Invalid input received: New size for extend must be greater than current size. "
                      f"(current: {volume.size}, extended: {new_size}).")
    _check_per_volume(volume.project_id, new_size)
    _check_no_clone_in_progress(volume, "extend")
    with transaction.atomic():
        if not transition(Volume, volume.pk, (states.AVAILABLE,), states.EXTENDING):
            raise Invalid(f"Invalid volume: Volume {volume.uuid} changed state; try again.")
        delta = new_size - volume.size
        reserve(volume.project_id, with_type({"gigabytes": delta}, type_name(volume)), delta)
        rpc.extend_volume(volume.host, volume.id, new_size)
    volume.refresh_from_db()
    return volume


def _check_no_clone_in_progress(volume: Volume, verb: str) -> None:
    """A clone being made reads the source's storage: the source waits (400, as a busy volume)."""
    if Volume.objects.filter(source_volume=volume, status=states.CREATING).exists():
        raise Invalid(f"Invalid volume: Volume {volume.uuid} is being cloned; {verb} it once the clone is made.")


def delete_volume(ctx, volume: Volume, cascade: bool = False) -> None:
    """Delete a volume that is not attached nor busy. Its snapshots are a 400, unless `cascade`
    (Cinder's ?cascade=true): then they are deleted too, by the volume's host, before it; all
    must be available or error (as Cinder)."""
    _check_no_clone_in_progress(volume, "delete")
    snapshots = Snapshot.objects.filter(volume=volume)
    if snapshots.exists() and not cascade:
        raise Invalid(f"Invalid volume: Volume {volume.uuid} still has {snapshots.count()} dependent snapshots.")
    if VolumeAttachment.objects.filter(volume=volume).exists():
        raise Invalid(f"Invalid volume: Volume {volume.uuid} is attached to a server; detach it first.")
    with transaction.atomic():
        if not transition(Volume, volume.pk, states.DELETABLE, states.DELETING):
            raise Invalid(f"Invalid volume: Volume status must be available or error or error_extending, "
                          f"but current status is: {volume.status}.")
        if cascade:
            busy = list(snapshots.select_for_update().exclude(status__in=(states.AVAILABLE, states.ERROR)))
            if busy:  # the exception rolls the status change back
                raise Invalid(f"Invalid volume: Snapshot {busy[0].uuid} of volume {volume.uuid} is "
                              f"{busy[0].status}; cascade delete needs them all available or error.")
            snapshots.update(status=states.DELETING, updated_at=timezone.now())
        if volume.host is None:  # never scheduled: no storage anywhere
            finish_delete(volume.pk)
        else:
            rpc.delete_volume(volume.host, volume.id)


def finish_delete(volume_pk: int) -> bool:
    return soft_delete(Volume, volume_pk, "volumes")


def soft_delete(model, pk: int, resource: str) -> bool:
    """Soft-delete a volume or snapshot row and give its quota (`resource` and gigabytes) back,
    once (after the storage is gone)."""
    with transaction.atomic():
        row = model.all_objects.select_for_update().get(pk=pk)
        if row.deleted_at is not None:
            return False
        row.status = states.DELETED
        row.soft_delete(update_fields=("status",))
        give_back(row.project_id, with_type({resource: 1, "gigabytes": row.size},
                                            type_name(row if isinstance(row, Volume) else row.volume)))
    return True


def find_for_operator(ref: str) -> Volume:
    """A live volume by EC2 id (vol-0000000a), integer id or uuid (operator commands)."""
    text = str(ref).strip()
    volume = None
    if text.startswith("vol-"):
        try:
            volume = Volume.objects.filter(pk=int(text[4:], 16)).first()
        except ValueError:
            volume = None
    elif text.isdigit():
        volume = Volume.objects.filter(pk=int(text)).first()
    else:
        try:
            volume = Volume.objects.filter(uuid=uuid_lib.UUID(text)).first()
        except ValueError:
            volume = None
    if volume is None:
        raise NotFound(f"Volume {ref} could not be found.")
    return volume


def force_delete(volume: Volume) -> None:
    """The seeds' `nova-manage volume delete`: delete whatever the status (a volume stuck in
    creating or error), but never an attached one."""
    if VolumeAttachment.objects.filter(volume=volume).exists():
        raise Conflict(f"Volume {volume.ec2_id} is in-use; detach it from its server and try again.")
    if Snapshot.objects.filter(volume=volume).exists():
        raise Invalid(f"Volume {volume.ec2_id} still has snapshots; delete them first.")
    with transaction.atomic():
        statuses = tuple(s for s in states.VOLUME_STATUSES if s not in (states.IN_USE, states.DELETED))
        if not transition(Volume, volume.pk, statuses, states.DELETING):
            raise Conflict(f"Volume {volume.ec2_id} is {volume.status}.")
        VolumeTransfer.objects.filter(volume=volume).delete()  # an offer of it goes with it
        if volume.host is None:
            finish_delete(volume.pk)
        else:
            rpc.delete_volume(volume.host, volume.id)


RESETTABLE = (states.CREATING, states.AVAILABLE, states.ATTACHING, states.IN_USE, states.DETACHING,
              states.DELETING, states.EXTENDING, states.ERROR, states.ERROR_DELETING, states.ERROR_EXTENDING,
              states.MAINTENANCE)


def reset_status(volume: Volume, status) -> None:
    """Cinder's os-reset_status (admins): repair a volume stuck in a transient status (or mark
    it `maintenance`). Only the row changes; `in-use` needs the attachment the DB still has,
    `available` needs none (other statuses leave the attachment as it is, as Cinder's
    attach_status)."""
    if status not in RESETTABLE:
        raise Invalid(f"Invalid input received: status must be one of {', '.join(RESETTABLE)}.")
    attached = VolumeAttachment.objects.filter(volume=volume).exists()
    if (status == states.IN_USE and not attached) or (status == states.AVAILABLE and attached):
        raise Invalid(f"Invalid input received: volume {volume.uuid} is {'' if attached else 'not '}attached; "
                      f"it cannot be '{status}'.")
    Volume.objects.filter(pk=volume.pk).update(status=status, updated_at=timezone.now())


def set_image_metadata(volume: Volume, metadata) -> dict:
    """Cinder's os-set_image_metadata: merge into what the volume shows of its image
    (`volume_image_metadata`, also what ?glance_metadata= filters on); the whole of it."""
    given = validate_metadata(metadata)
    with transaction.atomic():
        locked = Volume.objects.select_for_update().get(pk=volume.pk)
        merged = {**(locked.image_metadata or {}), **given}
        Volume.objects.filter(pk=volume.pk).update(image_metadata=merged, updated_at=timezone.now())
    return merged


def unset_image_metadata(volume: Volume, key) -> None:
    with transaction.atomic():
        locked = Volume.objects.select_for_update().get(pk=volume.pk)
        current = dict(locked.image_metadata or {})
        if not isinstance(key, str) or key not in current:
            raise NotFound(f"Glance metadata for volume {volume.uuid} cannot be found: no key {key!r}.")
        del current[key]
        Volume.objects.filter(pk=volume.pk).update(image_metadata=current, updated_at=timezone.now())


def retype(ctx, volume: Volume, new_type, migration_policy="never") -> None:
    """Cinder's os-retype without migration: the volume takes another type when its host's
    back end satisfies it (the type's volume_backend_name, if any, is the host's driver).
    Moving a volume to another back end (migration_policy on-demand) is not offered: a 400."""
    if migration_policy not in (None, "never", "on-demand"):
        raise Invalid(f"Invalid input received: migration_policy must be 'never' or 'on-demand', not "
                      f"{migration_policy!r}.")
    vtype = types.resolve_for_volume(ctx, new_type) if new_type not in (None, "") else None
    if vtype is None:
        raise Invalid("Invalid input received: new_type is required.")
    backend = (vtype.extra_specs or {}).get("volume_backend_name")
    if not scheduler.satisfies(volume.driver, scheduler.wanted_capabilities(vtype.extra_specs)):
        raise Invalid(f"Invalid volume: the back end of volume {volume.uuid} does not have the capabilities "
                      f"volume type {vtype.name} asks for; migrating volumes is not supported by this cloud.")
    if backend is not None and backend != volume.driver:
        raise Invalid(f"Invalid volume: volume type {vtype.name} needs back end {backend}, and volume "
                      f"{volume.uuid} is on {volume.driver or 'no back end'}; migrating volumes between back "
                      "ends is not supported by this cloud.")
    with transaction.atomic():
        changed = Volume.objects.filter(pk=volume.pk, status__in=(states.AVAILABLE, states.IN_USE)).update(
            volume_type=vtype, updated_at=timezone.now())
        if not changed:
            volume.refresh_from_db()
            raise Invalid(f"Invalid volume: Volume status must be available or in-use to retype, but it is "
                          f"{volume.status}.")
        # the volume's place in its type's quota moves to the new type (413 over the new one's)
        if vtype.name != type_name(volume):
            size = {"volumes": 1, "gigabytes": volume.size}
            reserve(volume.project_id, {r: d for r, d in with_type(size, vtype.name).items() if r not in size},
                    volume.size)
            give_back(volume.project_id,
                      {r: d for r, d in with_type(size, type_name(volume)).items() if r not in size})
