"""Instances: validated multi-create with a quota reservation, state updates, soft delete.

Plain Python (no HTTP, no Celery). The API calls `create_instances(...)` inside its request
and, on commit, queues the boot pipeline for each returned instance (ids only).

    create_instances(ctx, name, flavor, image, ...) -> [Instance]      (one transaction)
    get_instance(ctx, uuid, include_deleted=False) -> Instance           (404 across projects)
    update_state(instance, expected_task_state=..., vm_state=..., ...)   (compare-and-swap)
    begin(instance, action, ctx, task_state=...)                          (409 check + action record)
    soft_delete(instance) -> bool                                         (quota + claim, once)
    record_fault / start_action / event / finish_action                  (re-exported from actions)
"""
import base64
import binascii
import logging
import secrets
import string
import unicodedata
import uuid as uuid_lib

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloudproj.hostnames import sanitize_hostname
from identity.services import quotas

from .. import states
from ..models import Instance, KeyPair
from ..scheduler import claims
from ..signals import instance_deleted
from . import hosts as hosts_service
from .actions import event, finish_action, get_action, latest_fault, record_fault, start_action  # noqa: F401 - re-exported
from cloudproj.exceptions import Conflict, Forbidden, Invalid, NotFound, OverQuota

log = logging.getLogger(__name__)

MAX_USER_DATA = 65535
MAX_NAME = 255
MAX_METADATA_KEY = 255
MAX_METADATA_VALUE = 255
_UNSET = object()


# --- names ---------------------------------------------------------------------------------------


def generate_reservation_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "r-" + "".join(secrets.choice(alphabet) for _ in range(8))


def validate_name(name) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or name != name.strip():
        raise Invalid(
            "Invalid input for field/attribute name: must be 1-255 characters without "
            "leading or trailing whitespace."
        )
    return name


def validate_description(description, max_length: int = MAX_NAME) -> str | None:
    """None (no description) or up to `max_length` printable characters (Nova's
    parameter_types.description: no control, format or line/paragraph separator characters)."""
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > max_length or not all(
        _printable(char) for char in description
    ):
        raise Invalid(
            f"Invalid input for field/attribute description: must be null or up to {max_length} printable "
            "characters."
        )
    return description


def _printable(char: str) -> bool:
    category = unicodedata.category(char)
    return not category.startswith("C") and (not category.startswith("Z") or category == "Zs")


# --- validation ----------------------------------------------------------------------------------


def validate_metadata(project, metadata) -> dict:
    metadata = metadata or {}
    if not isinstance(metadata, dict):
        raise Invalid("Invalid input for field/attribute metadata: must be an object.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise Invalid("Invalid input for field/attribute metadata: keys and values must be strings.")
        if not 1 <= len(key) <= MAX_METADATA_KEY:
            raise Invalid("Metadata property key must be 1-255 characters long.")
        if len(value) > MAX_METADATA_VALUE:
            raise Invalid("Metadata property value greater than 255 characters.")
    if project is not None and metadata:  # no limit is below 0: nothing to check for none
        try:
            quotas.check_absolute(project, {"metadata_items": len(metadata)})
        except quotas.OverQuota as exc:
            raise OverQuota(f"Maximum number of metadata items exceeds {exc.quotas['metadata_items']}") from None
    return dict(metadata)


def validate_user_data(user_data) -> str | None:
    if user_data is None or user_data == "":
        return None
    if not isinstance(user_data, str):
        raise Invalid("User data needs to be valid base 64.")
    if len(user_data) > MAX_USER_DATA:
        raise Invalid(f"User data too large. User data must be no larger than {MAX_USER_DATA} bytes once base64 encoded.")
    try:
        base64.b64decode(user_data.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("User data needs to be valid base 64.") from None
    return user_data


def _image_get(image, key, default=None):
    if image is None:
        return default
    if isinstance(image, dict):
        return image.get(key, default)
    return getattr(image, key, default)


def validate_image(image, flavor, local_disk: bool = True) -> dict:
    """{id, properties, kernel_id, ramdisk_id} from a mapping or an object with those
    attributes (id, status, properties, min_disk, min_ram, size, kernel_id, ramdisk_id).
    local_disk False: the server boots from a volume, the flavor's disk does not hold the image."""
    if image is None:
        raise Invalid("Missing imageRef attribute")
    image_id = _image_get(image, "id")
    if not image_id:
        raise Invalid("Invalid imageRef provided.")
    status = _image_get(image, "status")
    if status is not None and status != "active":
        raise Invalid(f"Image {image_id} is not active.")
    props = dict(_image_get(image, "properties") or {})
    min_ram = int(_image_get(image, "min_ram") or 0)
    min_disk = int(_image_get(image, "min_disk") or 0)
    size = int(_image_get(image, "size") or 0)
    if min_ram and flavor.memory_mb < min_ram:
        raise Invalid("Flavor's memory is too small for requested image.")
    if flavor.root_gb and local_disk:
        if min_disk > flavor.root_gb or size > flavor.root_gb * 1024**3:
            raise Invalid("Flavor's disk is too small for requested image.")
    return {
        "id": str(image_id),
        "properties": props,
        "kernel_id": str(_image_get(image, "kernel_id") or props.get("kernel_id") or ""),
        "ramdisk_id": str(_image_get(image, "ramdisk_id") or props.get("ramdisk_id") or ""),
    }


def _parse_zone(ctx, availability_zone) -> tuple[str | None, list]:
    """(zone, forced hosts) from "zone", "zone:host" or "zone:host:node" (forcing: admins)."""
    if availability_zone in (None, ""):
        return None, []
    if not isinstance(availability_zone, str):
        raise Invalid("Invalid input for field/attribute availability_zone.")
    zone, _, rest = availability_zone.partition(":")
    forced = []
    if rest:
        if not getattr(ctx, "is_admin", False):
            raise Forbidden("Policy doesn't allow compute:servers:create:forced_host to be performed.")
        forced = [rest.split(":")[0]]
    if zone:
        known = {name for name, _available in hosts_service.availability_zones()}
        if zone not in known:
            raise Invalid("The requested availability zone is not available")
    return zone or None, forced


def _validate_hints(hints) -> dict:
    hints = dict(hints or {})
    for name in ("same_host", "different_host"):
        if name not in hints:
            continue
        values = hints[name]
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list):
            raise Invalid(f"Invalid input for field/attribute {name}: must be a uuid or a list of uuids.")
        for value in values:
            try:
                uuid_lib.UUID(str(value))
            except ValueError:
                raise Invalid(f"Invalid input for field/attribute {name}: {value!r} is not a uuid.") from None
        hints[name] = [str(v) for v in values]
    return hints


def _counts(min_count, max_count) -> tuple[int, int]:
    min_count = 1 if min_count is None else min_count
    max_count = min_count if max_count is None else max_count
    for field, value in (("min_count", min_count), ("max_count", max_count)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid(f"Invalid input for field/attribute {field}: must be an integer >= 1.")
    if min_count > max_count:
        raise Invalid("min_count must be <= max_count")
    return min_count, max_count


# --- quota ---------------------------------------------------------------------------------------


def quota_deltas(flavor, count: int = 1) -> dict:
    return {"instances": count, "cores": count * flavor.vcpus, "ram": count * flavor.memory_mb}


def _consume_quota(project, flavor, min_count: int, max_count: int) -> int:
    """Take the quota of max_count servers; when that is over quota, of as many as fit
    (≥ min_count). Returns the count. OverQuota (403) in Nova's words when not even
    min_count fits. The caller's transaction creates the rows: no reservation is kept."""
    count = max_count
    per = quota_deltas(flavor, 1)
    while True:
        try:
            quotas.consume(project, quota_deltas(flavor, count))
            return count
        except quotas.OverQuota as exc:
            allowed = count
            for resource in exc.overs:
                headroom = max(0, exc.quotas[resource] - exc.usages[resource])
                if per[resource]:
                    allowed = min(allowed, headroom // per[resource])
            if allowed < min_count or allowed >= count:
                resource = exc.overs[0]
                requested = quota_deltas(flavor, max_count)[resource]
                raise OverQuota(
                    f"Quota exceeded for {resource}: Requested {requested}, but already used "
                    f"{exc.usages[resource]} of {exc.quotas[resource]} {resource}"
                ) from None
            count = allowed


# --- create --------------------------------------------------------------------------------------


def _auto_disk_config(requested, image_properties: dict) -> bool:
    """The request's OS-DCF:diskConfig, else the image's `auto_disk_config` property (as Nova)."""
    if requested is not None:
        return bool(requested)
    return str((image_properties or {}).get("auto_disk_config", "")).strip().lower() in ("true", "1", "yes", "on")


MAX_TRUSTED_CERTS = 50


def validate_trusted_certs(certs, volume_backed: bool = False) -> list[str] | None:
    """Compute API 2.63 trusted_image_certificates: null, or 1 to 50 distinct non-empty ids;
    Invalid (400) for a volume-backed server, as Nova (no image of its own to check)."""
    if certs is None:
        return None
    if not isinstance(certs, list) or not 1 <= len(certs) <= MAX_TRUSTED_CERTS or len(set(map(str, certs))) != len(
            certs) or not all(isinstance(cert, str) and cert for cert in certs):
        raise Invalid("Invalid input for field/attribute trusted_image_certificates: 1 to 50 distinct non-empty "
                      "certificate ids, or null.")
    if volume_backed:
        raise Invalid("Image certificate validation is not supported for volume-backed servers.")
    return certs


def keypair_fields(user, key_name) -> tuple[str | None, str | None]:
    """(key_name, key_data) of the user's key pair `key_name` (Invalid, a 400, when unknown);
    (None, None) for no key pair."""
    if not key_name:
        return None, None
    keypair = KeyPair.objects.filter(user=user, name=key_name).first()
    if keypair is None:
        raise Invalid("Invalid key_name provided.")
    return key_name, keypair.public_key


def create_instances(ctx, name, flavor, image, key_name=None, metadata=None, user_data=None,
                     availability_zone=None, min_count=1, max_count=None, scheduler_hints=None,
                     networks=None, security_groups=None, access_ip_v4=None, access_ip_v6=None,
                     config_drive=False, auto_disk_config=None, boot_from_volume=False,
                     description=_UNSET, requested_host=None, trusted_certs=None) -> list[Instance]:
    """Validate, reserve quota and create the instances (vm_state building, task_state
    scheduling) in one transaction; the reservation is committed with the rows. Returns them
    ordered by launch_index. A "create" InstanceAction is recorded for each (ctx.request_id).

    ctx: user, project, request_id, is_admin. flavor: a Flavor. image: a mapping (id, status,
    properties, min_disk, min_ram, size, kernel_id, ramdisk_id). boot_from_volume: the root
    disk is a volume (no image of the server's own, as Nova shows it: image ""). description:
    unset means the name (a create below compute API 2.19, as Nova), None means none.
    requested_host: the host to boot on (compute API 2.74, admins), scheduler filters still run.
    trusted_certs: compute API 2.63's certificate ids (kept and shown)."""
    trusted_certs = validate_trusted_certs(trusted_certs, volume_backed=boot_from_volume)
    validate_name(name)
    description = name if description is _UNSET else validate_description(description)
    min_count, max_count = _counts(min_count, max_count)
    project, user = ctx.project, ctx.user
    if project is None:
        raise Forbidden("A project-scoped token is required to create servers.")
    if getattr(flavor, "disabled", False):
        raise Invalid(f"Flavor {flavor.flavorid} is disabled.")
    image_info = validate_image(image, flavor, local_disk=not boot_from_volume)
    metadata = validate_metadata(project, metadata)
    user_data = validate_user_data(user_data)
    zone, forced_hosts = _parse_zone(ctx, availability_zone)
    hints = _validate_hints(scheduler_hints)
    if forced_hosts and requested_host:
        raise Invalid("host and hypervisor_hostname cannot be combined with an availability zone of the form "
                      "zone:host:node.")
    if requested_host:
        forced_hosts = [requested_host]
    if forced_hosts:
        hints["_force_hosts"] = forced_hosts
    if networks is not None and not isinstance(networks, (list, str)):
        raise Invalid("Invalid input for field/attribute networks.")
    key_name, key_data = keypair_fields(user, key_name)
    extra_specs = {}
    if getattr(flavor, "pk", None) is not None and hasattr(flavor, "extra_specs"):
        extra_specs = dict(flavor.extra_specs.values_list("key", "value"))
    reservation_id = generate_reservation_id()

    with transaction.atomic():
        count = _consume_quota(project, flavor, min_count, max_count)
        instances = []
        for index in range(count):
            instance_uuid = uuid_lib.uuid4()
            label = name if count == 1 else f"{name}-{index + 1}"
            instance = Instance.objects.create(
                uuid=instance_uuid,
                display_name=name,
                display_description=description,
                hostname=sanitize_hostname(label, fallback=f"server-{instance_uuid}"),
                project=project,
                user=user,
                flavor=flavor if getattr(flavor, "pk", None) else None,
                flavorid=flavor.flavorid,
                flavor_name=flavor.name,
                memory_mb=flavor.memory_mb,
                vcpus=flavor.vcpus,
                root_gb=flavor.root_gb,
                ephemeral_gb=flavor.ephemeral_gb,
                swap=flavor.swap,
                flavor_extra_specs=extra_specs,
                image_ref="" if boot_from_volume else image_info["id"],
                image_properties=image_info["properties"],
                kernel_id=image_info["kernel_id"],
                ramdisk_id=image_info["ramdisk_id"],
                key_name=key_name,
                key_data=key_data,
                trusted_certs=trusted_certs,
                metadata=metadata,
                user_data=user_data,
                availability_zone=zone,
                requested_networks=networks if networks is not None else [],
                security_groups=list(security_groups or []),
                reservation_id=reservation_id,
                launch_index=index,
                vm_state=states.BUILDING,
                task_state=states.task.SCHEDULING,
                power_state=states.NOSTATE,
                access_ip_v4=access_ip_v4,
                access_ip_v6=access_ip_v6,
                auto_disk_config=_auto_disk_config(auto_disk_config, image_info["properties"]),
                config_drive=bool(config_drive),
                scheduler_hints=hints,
                retry={"num_attempts": 0, "hosts": []},
            )
            start_action(instance, "create", ctx)
            instances.append(instance)
    log.info(
        "created %d instance(s) %s (reservation %s) for project %s",
        count, [str(i.uuid) for i in instances], reservation_id, project.id,
    )
    return instances


# --- lookups -------------------------------------------------------------------------------------


def get_instance(ctx, instance_uuid, include_deleted: bool = False) -> Instance:
    """The instance by uuid; another project's (for non-admins) is reported missing."""
    try:
        key = uuid_lib.UUID(str(instance_uuid))
    except ValueError:
        raise NotFound(f"Instance {instance_uuid} could not be found.") from None
    manager = Instance.all_objects if include_deleted else Instance.objects
    instance = manager.filter(uuid=key).first()  # no join: the user or project may be gone
    if instance is None or (
        ctx is not None and not getattr(ctx, "is_admin", False) and instance.project_id != ctx.project_id
    ):
        raise NotFound(f"Instance {instance_uuid} could not be found.")
    return instance


def instances_for(ctx, all_tenants: bool = False):
    qs = Instance.objects.all()
    if not (all_tenants and getattr(ctx, "is_admin", False)):
        qs = qs.filter(project_id=ctx.project_id)
    return qs


# --- state changes -------------------------------------------------------------------------------


class UnexpectedTaskState(Conflict):
    pass


def update_state(instance: Instance, expected_task_state=_UNSET, expected_vm_state=_UNSET, **fields) -> Instance:
    """Save `fields` (vm_state, task_state, power_state, host, launched_at...) only if the
    row still has the expected task/vm state (a compare-and-swap, as Nova's
    expected_task_state): UnexpectedTaskState (409) otherwise. Updates `instance` in place."""
    qs = Instance.all_objects.filter(pk=instance.pk)
    if expected_task_state is not _UNSET:
        expected = expected_task_state if isinstance(expected_task_state, (list, tuple, set)) else [expected_task_state]
        cond = [t for t in expected if t is not None]
        from django.db.models import Q

        q = Q(task_state__in=cond) if cond else Q(pk__in=[])
        if None in expected:
            q |= Q(task_state__isnull=True)
        qs = qs.filter(q)
    if expected_vm_state is not _UNSET:
        expected = expected_vm_state if isinstance(expected_vm_state, (list, tuple, set)) else [expected_vm_state]
        qs = qs.filter(vm_state__in=list(expected))
    fields["updated_at"] = timezone.now()
    if not qs.update(**fields):
        current = Instance.all_objects.filter(pk=instance.pk).values("vm_state", "task_state").first()
        raise UnexpectedTaskState(
            f"Conflict updating instance {instance.uuid}. Expected: task_state "
            f"{expected_task_state if expected_task_state is not _UNSET else 'any'}. Actual: {current}"
        )
    for key, value in fields.items():
        setattr(instance, key, value)
    return instance


def begin(instance: Instance, action: str, ctx=None, task_state=None, reboot_type=None):
    """Check the action is allowed (409 otherwise), set the task_state atomically and record
    an InstanceAction. Returns the action row."""
    states.check_allowed(instance, action, reboot_type=reboot_type, is_admin=getattr(ctx, "is_admin", False))
    if task_state is not None:
        key = f"reboot_{(reboot_type or 'SOFT').lower()}" if action == "reboot" else action
        vm_ok, task_ok = states.ALLOWED[key]
        update_state(
            instance,
            expected_task_state=_UNSET if task_ok is states.ANY else list(task_ok),
            expected_vm_state=_UNSET if vm_ok is states.ANY else list(vm_ok),
            task_state=task_state,
        )
    return start_action(instance, action, ctx)


def next_retry(retry: dict | None, host: str, node: str | None = None) -> dict:
    """The retry info once `host` was tried: one more attempt, the host remembered."""
    retry = dict(retry or {})
    retry["num_attempts"] = int(retry.get("num_attempts", 0)) + 1
    tried = list(retry.get("hosts", []))
    if [host, node] not in tried:
        tried.append([host, node])
    retry["hosts"] = tried
    return retry


def record_retry(instance: Instance, host: str, node: str | None = None) -> dict:
    """Remember that `host` was tried (RetryFilter skips it); returns the retry info."""
    with transaction.atomic():
        row = Instance.all_objects.select_for_update().get(pk=instance.pk)
        retry = next_retry(row.retry, host, node)
        row.retry = retry
        row.save(update_fields=["retry", "updated_at"])
    instance.retry = retry
    return retry


def max_attempts_reached(instance: Instance) -> bool:
    return int((instance.retry or {}).get("num_attempts", 0)) >= settings.SCHEDULER_MAX_ATTEMPTS


def set_error(instance: Instance, exc_or_message, code: int | None = None, host: str | None = None):
    """vm_state error, task_state None, and a fault."""
    fault = record_fault(instance, exc_or_message, code=code, host=host)
    update_state(instance, vm_state=states.ERROR, task_state=None)
    return fault


# --- delete --------------------------------------------------------------------------------------


def soft_delete(instance: Instance, release_claim: bool = True) -> bool:
    """Mark deleted (vm_state deleted, deleted_at, terminated_at), give back the quota and
    (by default) the capacity claim. Exactly once: False when already deleted."""
    with transaction.atomic():
        row = Instance.all_objects.select_for_update().get(pk=instance.pk)
        if row.deleted_at is not None:
            return False
        now = timezone.now()
        row.vm_state = states.DELETED
        row.task_state = None
        row.power_state = states.NOSTATE
        row.terminated_at = row.terminated_at or now
        row.soft_delete(now, update_fields=("vm_state", "task_state", "power_state", "terminated_at"))
        deltas = {resource: -value for resource, value in quota_deltas(row, 1).items()}
        quotas.commit(quotas.reserve(row.project_id, deltas))
        if release_claim:
            claims.release(None, row)
        instance_deleted.send(sender=Instance, instance=row)
    for field in ("vm_state", "task_state", "power_state", "deleted_at", "terminated_at"):
        setattr(instance, field, getattr(row, field))
    return True


def purge_deleted(older_than=None) -> int:
    """Remove soft-deleted rows (deleted before `older_than`, a datetime; all when None)."""
    qs = Instance.all_objects.filter(deleted_at__isnull=False)
    if older_than is not None:
        qs = qs.filter(deleted_at__lt=older_than)
    _total, per_model = qs.delete()
    return per_model.get(Instance._meta.label, 0)
