"""Images: DescribeImages (owners, ids, filters), DeregisterImage and CreateImage (a snapshot of
an instance, as the compute API's createImage) over images.services and compute.services."""
from compute.services import snapshots
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error
from ec2.services.params import Params
from identity.services.policy import enforce
from images.models import Image
from images.services import registry

from .instances import get as get_instance

STATES = {"active": "available", "queued": "pending", "saving": "pending", "importing": "pending",
          "uploading": "pending", "killed": "failed", "deactivated": "disabled", "deleted": "deregistered",
          "pending_delete": "deregistered"}
KINDS = {"aki": "kernel", "ari": "ramdisk"}


def kind_of(image: Image) -> str:
    return image.disk_format if image.disk_format in KINDS else "ami"


def _item(ctx, image: Image, known: dict) -> dict:
    properties = image.properties or {}
    kernel, ramdisk = properties.get("kernel_id"), properties.get("ramdisk_id")
    return {
        "imageId": known[str(image.id)], "imageLocation": image.name, "imageState": STATES.get(image.status, "pending"),
        "imageOwnerId": image.owner_id or "", "isPublic": image.visibility in (Image.PUBLIC, "community"),
        "architecture": properties.get("architecture", "x86_64"), "imageType": KINDS.get(image.disk_format, "machine"),
        "kernelId": known.get(str(kernel)) if kernel else None, "ramdiskId": known.get(str(ramdisk)) if ramdisk else None,
        "name": image.name, "description": properties.get("description"), "rootDeviceType": "instance-store",
        "rootDeviceName": "/dev/vda", "virtualizationType": "hvm", "hypervisor": "xen", "blockDeviceMapping": [],
        "creationDate": image.created_at, "tagSet": [{"key": t, "value": ""} for t in image.tags or []],
    }


def _known(images) -> dict:
    kinds = {str(i.id): kind_of(i) for i in images}
    refs = set(kinds)
    for image in images:
        for key in ("kernel_id", "ramdisk_id"):
            value = (image.properties or {}).get(key)
            if value:
                refs.add(str(value))
                kinds.setdefault(str(value), "aki" if key == "kernel_id" else "ari")
    return ids.image_ec2_ids(refs, kinds)


def get(ctx, value) -> Image:
    image_uuid = ids.image_uuid(value)
    try:
        return registry.get_visible(image_uuid, ctx.project_id, ctx.is_admin)
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{value}]' does not exist") from None
        raise


FILTERS = {
    "name": lambda i: i.name, "image-id": lambda i: None, "state": lambda i: STATES.get(i.status, "pending"),
    "is-public": lambda i: "true" if i.visibility in (Image.PUBLIC, "community") else "false",
    "owner-id": lambda i: i.owner_id, "image-type": lambda i: KINDS.get(i.disk_format, "machine"),
    "architecture": lambda i: (i.properties or {}).get("architecture", "x86_64"),
    "description": lambda i: (i.properties or {}).get("description"),
}


def describe_images(ctx, p: Params) -> dict:
    enforce(ctx, "image:get_images")
    rows = list(registry.visible_images(ctx.project_id, False).order_by("created_at", "id"))
    wanted = p.values("ImageId")
    owners = p.values("Owner")
    p.values("ExecutableBy")
    p.flag("IncludeDeprecated")
    p.flag("IncludeDisabled")
    p.integer("MaxResults", minimum=5, maximum=1000)
    p.text("NextToken", max_length=1024)
    if wanted:
        uuids = [ids.image_uuid(v) for v in wanted]
        by_uuid = {str(i.id): i for i in rows}
        for value, image_uuid in zip(wanted, uuids):
            if image_uuid not in by_uuid:
                raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{value}]' does not exist")
        rows = [by_uuid[u] for u in dict.fromkeys(uuids)]
    if owners:
        owner_ids = {ctx.project_id if o == "self" else o for o in owners}
        rows = [i for i in rows if i.owner_id in owner_ids]
    known = _known(rows)
    requested = p.filters()
    if requested:
        rows = filters.apply(rows, requested, {**FILTERS, "image-id": lambda i: known[str(i.id)]})
    return {"imagesSet": [_item(ctx, i, known) for i in rows]}


def deregister_image(ctx, p: Params) -> dict:
    image = get(ctx, p.text("ImageId", required=True, max_length=64))
    enforce(ctx, "image:delete_image", {"project_id": image.owner_id})
    if image.owner_id != ctx.project_id and not ctx.is_admin:
        raise Ec2Error("AuthFailure", f"Not authorized for image:{p.text('ImageId')}", 403)
    registry.delete_image(image)
    return {"return": True}


def register_image(ctx, p: Params) -> dict:
    """EC2 registers images from an S3 manifest or EBS snapshots; this cloud has neither object
    storage nor bootable snapshots, so it says so (images come in through the Image API)."""
    p.text("Name", required=True, max_length=128)
    enforce(ctx, "image:add_image")
    raise Ec2Error("Unsupported", "RegisterImage needs an S3 manifest (ImageLocation) or EBS snapshots, which this "
                   "cloud does not have: upload the image through the Image API (openstack image create) and "
                   "find its ami- id with DescribeImages.")


def create_image(ctx, p: Params) -> dict:
    instance = get_instance(ctx, p.text("InstanceId", required=True, max_length=64))
    name = p.text("Name", required=True, max_length=128)
    p.text("Description")
    p.flag("NoReboot")
    enforce(ctx, "compute:servers:create_image", {"project_id": instance.project_id, "user_id": instance.user_id})
    image = snapshots.snapshot_server(ctx, instance, name)
    return {"imageId": ids.image_ec2_id(image.id, "ami")}
