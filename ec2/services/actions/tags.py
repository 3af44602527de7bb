"""Tags: Create/Describe/DeleteTags as the metadata of instances (server metadata: the
project's metadata_items quota, the same checks as /servers/{id}/metadata) and of volumes."""
from django.db import transaction

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error
from ec2.services.params import Params
from identity.services.policy import enforce
from volumes.models import Volume
from volumes.services import volumes as volume_service

KINDS = {"i": "instance", "vol": "volume"}


def _resources(ctx, p: Params) -> list:
    values = p.values("ResourceId", max_length=64)
    if not values:
        raise Ec2Error("MissingParameter", "The request must contain the parameter resourceIdSet")
    found = []
    for value in dict.fromkeys(values):
        prefix, key = ids.parse(value, "i", "vol")
        if prefix == "i":
            row = Instance.objects.filter(pk=key, project_id=ctx.project_id).first()
            if row is None:
                raise Ec2Error("InvalidInstanceID.NotFound", f"The instance ID '{value}' does not exist")
        else:
            row = Volume.objects.filter(pk=key, project_id=ctx.project_id).first()
            if row is None:
                raise Ec2Error("InvalidVolume.NotFound", f"The volume '{value}' does not exist.")
        found.append((prefix, row))
    return found


def _write(ctx, prefix: str, row, change) -> None:
    if prefix == "i":
        enforce(ctx, "compute:server_metadata:update", {"project_id": row.project_id})
        states.check_allowed(row, "update_metadata", is_admin=ctx.is_admin)
        with transaction.atomic():
            locked = Instance.objects.select_for_update().get(pk=row.pk)
            metadata = instance_service.validate_metadata(locked.project_id, change(dict(locked.metadata or {})))
            instance_service.update_state(row, metadata=metadata)
    else:
        enforce(ctx, "volume:update", {"project_id": row.project_id})
        with transaction.atomic():
            locked = Volume.objects.select_for_update().get(pk=row.pk)
            volume_service.update_volume(ctx, locked, metadata=change(dict(locked.metadata or {})))


def _tags(p: Params, need_value: bool) -> list[tuple[str, str | None]]:
    tags = []
    for tag in p.structs("Tag"):
        key = tag.text("Key", required=True, max_length=127)
        value = tag.text("Value", default="" if need_value else None, max_length=255)
        if key.lower().startswith("aws:"):
            raise Ec2Error("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
        tags.append((key, value))
    return tags


def create_tags(ctx, p: Params) -> dict:
    tags = _tags(p, need_value=True)
    if not tags:
        raise Ec2Error("MissingParameter", "The request must contain the parameter Tag")
    for prefix, row in _resources(ctx, p):
        _write(ctx, prefix, row, lambda current: {**current, **dict(tags)})
    return {"return": True}


def delete_tags(ctx, p: Params) -> dict:
    tags = _tags(p, need_value=False)

    def change(current: dict) -> dict:
        if not tags:
            return {}
        return {k: v for k, v in current.items()
                if not any(k == key and (value is None or value == v) for key, value in tags)}

    for prefix, row in _resources(ctx, p):
        _write(ctx, prefix, row, change)
    return {"return": True}


def describe_tags(ctx, p: Params) -> dict:
    enforce(ctx, "compute:server_metadata:index", {"project_id": ctx.project_id})
    p.integer("MaxResults", minimum=5, maximum=1000)
    p.text("NextToken", max_length=1024)
    items = []
    for row in Instance.objects.filter(project_id=ctx.project_id).order_by("id"):
        items += [{"resourceId": row.ec2_id, "resourceType": "instance", "key": k, "value": v}
                  for k, v in sorted((row.metadata or {}).items())]
    for volume in Volume.objects.filter(project_id=ctx.project_id).order_by("id"):
        items += [{"resourceId": ids.ec2_id("vol", volume.pk), "resourceType": "volume", "key": k, "value": v}
                  for k, v in sorted((volume.metadata or {}).items())]
    requested = p.filters()
    if requested:
        items = filters.apply(items, requested, {
            "resource-id": lambda t: t["resourceId"], "resource-type": lambda t: t["resourceType"],
            "key": lambda t: t["key"], "value": lambda t: t["value"],
        })
    return {"tagSet": items}
