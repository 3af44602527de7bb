"""Instances: Describe/Run/Start/Stop/Reboot/TerminateInstances, GetConsoleOutput,
DescribeInstanceAttribute, over compute.services (the same create, action and delete paths as
POST /servers and its actions: one quota, one policy, one pipeline)."""
import base64
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from compute import states
from compute.models import Flavor, Instance
from compute.services import instances as instance_service
from compute.services import operations
from ec2.models import ClientToken
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error, from_cloud_error, invalid_value
from ec2.services.params import Params
from cloudproj.exceptions import CloudError, Conflict
from floating.models import FloatingIP
from identity.services.policy import enforce
from images.services import registry as image_service
from network.models import FixedIP
from secgroups.models import SecurityGroup
from volumes.models import VolumeAttachment

from .common import image_mapping

# how long a terminated instance is still listed (EC2: about an hour)
TERMINATED_VISIBLE = timedelta(hours=1)
PENDING, RUNNING, SHUTTING_DOWN, TERMINATED, STOPPING, STOPPED = 0, 16, 32, 48, 64, 80
STATE_NAMES = {PENDING: "pending", RUNNING: "running", SHUTTING_DOWN: "shutting-down", TERMINATED: "terminated",
               STOPPING: "stopping", STOPPED: "stopped"}
T = states.task


def state_code(instance: Instance) -> int:
    if instance.deleted_at is not None or instance.vm_state in (states.DELETED, states.SOFT_DELETED, states.ERROR):
        return TERMINATED
    if instance.task_state == T.DELETING:
        return SHUTTING_DOWN
    if instance.vm_state == states.BUILDING:
        return PENDING
    if instance.task_state == T.POWERING_OFF:
        return STOPPING
    if instance.task_state == T.POWERING_ON:
        return PENDING
    if instance.vm_state in (states.STOPPED, states.PAUSED, states.SUSPENDED, states.SHELVED,
                             states.SHELVED_OFFLOADED):
        return STOPPED
    return RUNNING


def state(instance: Instance) -> dict:
    code = state_code(instance)
    return {"code": code, "name": STATE_NAMES[code]}


def not_found(value) -> Ec2Error:
    return Ec2Error("InvalidInstanceID.NotFound", f"The instance ID '{str(value)[:64]}' does not exist")


def get(ctx, value, include_deleted: bool = False) -> Instance:
    key = ids.key_of(value, "i")
    manager = Instance.all_objects if include_deleted else Instance.objects
    instance = manager.filter(pk=key, project_id=ctx.project_id).first()
    if instance is None:
        raise not_found(value)
    return instance


def _listed(ctx):
    recent = timezone.now() - TERMINATED_VISIBLE
    return (Instance.all_objects.filter(project_id=ctx.project_id)
            .filter(deleted_at__isnull=True) | Instance.all_objects.filter(project_id=ctx.project_id,
                                                                            deleted_at__gte=recent))


def _group_ids(project_id, names) -> dict:
    rows = SecurityGroup.objects.filter(project_id=project_id, name__in=set(names))
    return {row.name: ids.ec2_id("sg", row.pk) for row in rows}


def _groups(project_id, names, known: dict) -> list[dict]:
    return [{"groupId": known.get(name, ""), "groupName": name} for name in names]


class Renderer:
    """EC2 Instance items of many instances with a few queries."""

    def __init__(self, ctx, instances):
        uuids = [i.uuid for i in instances]
        self.fixed: dict = {}
        for row in FixedIP.objects.filter(instance_uuid__in=uuids, allocated=True).order_by("id"):
            self.fixed.setdefault(row.instance_uuid, []).append(row.address)
        self.floating: dict = {}
        for row in FloatingIP.objects.filter(instance_uuid__in=uuids).order_by("id"):
            self.floating.setdefault(row.instance_uuid, []).append(row.address)
        self.images = ids.image_ec2_ids([i.image_ref for i in instances])
        kernels = {i.kernel_id for i in instances if i.kernel_id} | {i.ramdisk_id for i in instances if i.ramdisk_id}
        kinds = {i.kernel_id: "aki" for i in instances if i.kernel_id}
        kinds.update({i.ramdisk_id: "ari" for i in instances if i.ramdisk_id})
        self.images.update(ids.image_ec2_ids(kernels, kinds))
        self.group_ids = _group_ids(ctx.project_id, {n for i in instances for n in (i.security_groups or [])})
        self.volumes: dict = {}
        for attachment in VolumeAttachment.objects.filter(instance_uuid__in=uuids).select_related("volume"):
            self.volumes.setdefault(attachment.instance_uuid, []).append({
                "deviceName": attachment.device,
                "ebs": {"volumeId": ids.ec2_id("vol", attachment.volume_id),
                        "status": "attached" if attachment.attached_at else "attaching",
                        "attachTime": attachment.attached_at or attachment.created_at,
                        "deleteOnTermination": False},
            })
        self.tokens = dict(ClientToken.objects.filter(
            project_id=ctx.project_id, reservation_id__in={i.reservation_id for i in instances}
        ).values_list("reservation_id", "token"))

    def item(self, instance: Instance) -> dict:
        fixed = self.fixed.get(instance.uuid, [])
        floating = self.floating.get(instance.uuid, [])
        return {
            "instanceId": instance.ec2_id,
            "imageId": self.images.get(instance.image_ref) if instance.image_ref else None,
            "instanceState": state(instance),
            "privateDnsName": instance.hostname or "",
            "dnsName": floating[0] if floating else (fixed[0] if fixed else ""),
            "reason": "",
            "keyName": instance.key_name,
            "amiLaunchIndex": instance.launch_index,
            "productCodes": [],
            "instanceType": instance.flavor_name,
            "launchTime": instance.launched_at or instance.created_at,
            "placement": {"availabilityZone": instance.availability_zone or settings.DEFAULT_AVAILABILITY_ZONE,
                          "tenancy": "default"},
            "kernelId": self.images.get(instance.kernel_id) if instance.kernel_id else None,
            "ramdiskId": self.images.get(instance.ramdisk_id) if instance.ramdisk_id else None,
            "monitoring": {"state": "disabled"},
            "privateIpAddress": fixed[0] if fixed else None,
            "ipAddress": floating[0] if floating else None,
            "groupSet": _groups(instance.project_id, instance.security_groups or [], self.group_ids),
            "stateReason": ({"code": "Server.InternalError", "message": "Server.InternalError: the instance failed"}
                            if instance.vm_state == states.ERROR else None),
            "architecture": "x86_64",
            "rootDeviceType": "instance-store",
            "rootDeviceName": "/dev/vda",
            "blockDeviceMapping": self.volumes.get(instance.uuid, []),
            "virtualizationType": "hvm",
            "clientToken": self.tokens.get(instance.reservation_id, ""),
            "tagSet": filters.tag_set(instance.metadata),
            "hypervisor": "xen",
        }


def _reservations(ctx, instances) -> list[dict]:
    renderer = Renderer(ctx, instances)
    by_reservation: dict = {}
    for instance in sorted(instances, key=lambda i: (i.created_at, i.launch_index)):
        by_reservation.setdefault(instance.reservation_id, []).append(instance)
    reservations = []
    for reservation_id, members in by_reservation.items():
        names = members[0].security_groups or []
        reservations.append({
            "reservationId": reservation_id,
            "ownerId": ctx.project_id,
            "groupSet": _groups(ctx.project_id, names, renderer.group_ids),
            "instancesSet": [renderer.item(i) for i in members],
        })
    return reservations


FILTERS = {
    "instance-id": lambda i: i.ec2_id,
    "instance-state-name": lambda i: STATE_NAMES[state_code(i)],
    "instance-state-code": lambda i: str(state_code(i)),
    "instance-type": lambda i: i.flavor_name,
    "key-name": lambda i: i.key_name,
    "availability-zone": lambda i: i.availability_zone or settings.DEFAULT_AVAILABILITY_ZONE,
    "reservation-id": lambda i: i.reservation_id,
    "launch-index": lambda i: str(i.launch_index),
    "private-dns-name": lambda i: i.hostname,
    "instance.group-name": lambda i: list(i.security_groups or []),
    "group-name": lambda i: list(i.security_groups or []),
    "owner-id": lambda i: i.project_id,
}


def _address_filters(instances) -> dict:
    uuids = [i.uuid for i in instances]
    fixed: dict = {}
    for uuid, address in FixedIP.objects.filter(instance_uuid__in=uuids, allocated=True).values_list(
            "instance_uuid", "address"):
        fixed.setdefault(uuid, []).append(address)
    floating: dict = {}
    for uuid, address in FloatingIP.objects.filter(instance_uuid__in=uuids).values_list("instance_uuid", "address"):
        floating.setdefault(uuid, []).append(address)
    images = ids.image_ec2_ids([i.image_ref for i in instances])
    return {
        "private-ip-address": lambda i: fixed.get(i.uuid, []),
        "ip-address": lambda i: floating.get(i.uuid, []),
        "image-id": lambda i: images.get(i.image_ref, ""),
    }


def describe_instances(ctx, p: Params) -> dict:
    enforce(ctx, "compute:servers:detail", {"project_id": ctx.project_id})
    wanted = p.values("InstanceId")
    p.integer("MaxResults", minimum=5, maximum=1000)
    p.text("NextToken", max_length=1024)
    rows = list(_listed(ctx))
    if wanted:
        by_id = {i.ec2_id: i for i in rows}
        for value in wanted:
            ids.key_of(value, "i")
            if value not in by_id:
                raise not_found(value)
        rows = [by_id[v] for v in dict.fromkeys(wanted)]
    requested = p.filters()
    if requested:
        rows = filters.apply(rows, requested, {**FILTERS, **_address_filters(rows)}, tags=lambda i: i.metadata or {})
    return {"reservationSet": _reservations(ctx, rows)}


def _flavor(ctx, name: str) -> Flavor:
    flavor = Flavor.objects.filter(name=name, disabled=False).first()
    if flavor is None or (not ctx.is_admin and not flavor.is_accessible_by(ctx.project_id)):
        raise invalid_value(f"The instance type '{name[:64]}' does not exist")
    return flavor


def _image(ctx, value) -> dict:
    image_uuid = ids.image_uuid(value)
    try:
        image = image_service.get_visible(image_uuid, ctx.project_id, ctx.is_admin)
    except CloudError:
        raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{value}]' does not exist") from None
    return image_mapping(image)


def _security_groups(ctx, p: Params) -> list[str] | None:
    names = list(p.values("SecurityGroup"))
    for value in p.values("SecurityGroupId"):
        key = ids.key_of(value, "sg")
        row = SecurityGroup.objects.filter(pk=key, project_id=ctx.project_id).first()
        if row is None:
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{value}' does not exist")
        names.append(row.name)
    for name in names:
        if not SecurityGroup.objects.filter(project_id=ctx.project_id, name=name).exists() and name != "default":
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{name[:64]}' does not exist")
    return list(dict.fromkeys(names)) or None


def _tag_specifications(p: Params, resource: str) -> dict:
    tags: dict = {}
    for spec in p.structs("TagSpecification"):
        kind = spec.text("ResourceType", required=True)
        if kind != resource:
            continue
        for tag in spec.structs("Tag"):
            tags[tag.text("Key", required=True, max_length=127)] = tag.text("Value", default="", max_length=255)
    return tags


def run_instances(ctx, p: Params) -> dict:
    enforce(ctx, "compute:servers:create", {"project_id": ctx.project_id, "user_id": ctx.user_id})
    token = p.text("ClientToken", max_length=64)
    if token:
        previous = ClientToken.objects.filter(project_id=ctx.project_id, token=token).first()
        if previous is not None:
            rows = list(Instance.all_objects.filter(project_id=ctx.project_id, reservation_id=previous.reservation_id))
            if rows:
                return _reservations(ctx, rows)[0]
    min_count = p.integer("MinCount", required=True, minimum=1, maximum=1000)
    max_count = p.integer("MaxCount", required=True, minimum=1, maximum=1000)
    if min_count > max_count:
        raise invalid_value("MinCount must be less than or equal to MaxCount.")
    image = _image(ctx, p.text("ImageId", required=True))
    flavor = _flavor(ctx, p.text("InstanceType", default="m1.small"))
    for name in ("KernelId", "RamdiskId"):
        if p.text(name) is not None:
            ids.image_uuid(p.text(name))  # known ids only; the image's own kernel and ramdisk are used
    user_data = p.base64("UserData")
    key_name = p.text("KeyName")
    zone = p.struct("Placement").text("AvailabilityZone")
    tags = _tag_specifications(p, "instance")
    try:
        created = operations.create_servers(
            ctx, tags.get("Name") or "ec2-instance", flavor, image, security_groups=_security_groups(ctx, p),
            key_name=key_name, user_data=base64.b64encode(user_data).decode() if user_data else None,
            availability_zone=zone, min_count=min_count, max_count=max_count, metadata=tags or None,
        )
    except CloudError as exc:
        message = exc.message
        if key_name and "key" in message.lower() and getattr(exc, "code", 0) in (400, 404):
            raise Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{key_name}' does not exist") from None
        if "quota" in message.lower() or "exceeded" in message.lower():
            raise Ec2Error("InstanceLimitExceeded", message) from None
        raise from_cloud_error(exc) from None
    if "Name" not in tags:  # named after their EC2 id, which exists once the rows do (the boot is queued
        for instance in created:  # after this transaction commits: DHCP and metadata see the new name)
            instance_service.update_state(instance, display_name=instance.ec2_id, hostname=instance.ec2_id)
    if token:
        try:
            with transaction.atomic():
                ClientToken.objects.create(project_id=ctx.project_id, token=token,
                                           reservation_id=created[0].reservation_id)
        except IntegrityError:
            raise Ec2Error("IdempotentParameterMismatch", "A concurrent request used the same ClientToken.") \
                from None
    return _reservations(ctx, created)[0]


def _change(ctx, p: Params, rule: str, act) -> dict:
    values = p.values("InstanceId")
    if not values:
        raise Ec2Error("MissingParameter", "The request must contain the parameter InstanceId")
    instances = [get(ctx, v, include_deleted=True) for v in dict.fromkeys(values)]
    changes = []
    for instance in instances:
        enforce(ctx, rule, {"project_id": instance.project_id, "user_id": instance.user_id})
        previous = state(instance)
        act(instance)
        instance = Instance.all_objects.get(pk=instance.pk)
        changes.append({"instanceId": instance.ec2_id, "currentState": state(instance), "previousState": previous})
    return {"instancesSet": changes}


def _incorrect(instance: Instance, exc: CloudError) -> Ec2Error:
    if isinstance(exc, Conflict):
        return Ec2Error("IncorrectInstanceState", f"The instance '{instance.ec2_id}' is not in a state from which "
                        f"it can be {{}}. {exc.message}")
    return from_cloud_error(exc)


def _action(ctx, verb: str, action: str, **kwargs):
    def act(instance):
        try:
            operations.request_action(ctx, instance, action, **kwargs)
        except CloudError as exc:
            error = _incorrect(instance, exc)
            error.message = error.message.replace("{}", verb)
            raise error from None
    return act


def start_instances(ctx, p: Params) -> dict:
    return _change(ctx, p, "compute:servers:start", _action(ctx, "started", "start"))


def stop_instances(ctx, p: Params) -> dict:
    p.flag("Force")
    p.flag("Hibernate")
    return _change(ctx, p, "compute:servers:stop", _action(ctx, "stopped", "stop"))


def reboot_instances(ctx, p: Params) -> dict:
    _change(ctx, p, "compute:servers:reboot", _action(ctx, "rebooted", "reboot", reboot_type="SOFT"))
    return {"return": True}


def terminate_instances(ctx, p: Params) -> dict:
    def act(instance):
        if instance.deleted_at is None:
            try:
                operations.delete_server(ctx, instance)
            except CloudError as exc:
                error = _incorrect(instance, exc)
                error.message = error.message.replace("{}", "terminated")
                raise error from None
    return _change(ctx, p, "compute:servers:delete", act)


def get_console_output(ctx, p: Params) -> dict:
    p.flag("Latest")
    instance = get(ctx, p.text("InstanceId", required=True))
    enforce(ctx, "compute:servers:console_output", {"project_id": instance.project_id, "user_id": instance.user_id})
    output = ""
    if instance.host:  # EC2 answers no output until the instance has booted somewhere
        output = operations.console_output(ctx, instance)
    return {"instanceId": instance.ec2_id, "timestamp": timezone.now(),
            "output": base64.b64encode(output.encode("utf-8", "replace")).decode()}


def describe_instance_attribute(ctx, p: Params) -> dict:
    instance = get(ctx, p.text("InstanceId", required=True))
    enforce(ctx, "compute:servers:show", {"project_id": instance.project_id})
    attribute = p.text("Attribute", required=True, max_length=64)
    renderer = Renderer(ctx, [instance])
    item = renderer.item(instance)
    values: dict[str, dict] = {
        "instanceType": {"instanceType": {"value": instance.flavor_name}},
        "kernel": {"kernel": {"value": item["kernelId"]} if item["kernelId"] else {}},
        "ramdisk": {"ramdisk": {"value": item["ramdiskId"]} if item["ramdiskId"] else {}},
        "userData": {"userData": {"value": instance.user_data} if instance.user_data else {}},
        "disableApiTermination": {"disableApiTermination": {"value": False}},
        "disableApiStop": {"disableApiStop": {"value": False}},
        "instanceInitiatedShutdownBehavior": {"instanceInitiatedShutdownBehavior": {"value": "stop"}},
        "rootDeviceName": {"rootDeviceName": {"value": "/dev/vda"}},
        "blockDeviceMapping": {"blockDeviceMapping": item["blockDeviceMapping"]},
        "productCodes": {"productCodes": []},
        "sourceDestCheck": {"sourceDestCheck": {"value": True}},
        "groupSet": {"groupSet": item["groupSet"]},
        "ebsOptimized": {"ebsOptimized": {"value": False}},
        "sriovNetSupport": {"sriovNetSupport": {}},
        "enaSupport": {"enaSupport": {"value": False}},
    }
    if attribute not in values:
        raise invalid_value(f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
    return {"instanceId": instance.ec2_id, **values[attribute]}
