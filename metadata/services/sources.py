"""Who is asking, and what the metadata service tells them.

instance_for_address(addr)   the live instance holding fixed IP `addr` (None for anyone else,
                             and when overlapping networks make the address ambiguous)
collect(instance)            everything the EC2 and OpenStack layouts show, in one place
"""
import base64
import binascii
import hashlib
import ipaddress
import uuid as uuid_lib
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings

from compute import states
from compute.models import Instance, KeyPair
from images.models import Image
from network.models import FixedIP

from . import passwords

# Nova's root device (libvirt, virtio): what block-device-mapping/ami and /root report.
ROOT_DEVICE = "/dev/vda"
GONE_STATES = (states.DELETED, states.SOFT_DELETED)


def source_address(value) -> str | None:
    """The IPv4 address of a request's source ('::ffff:a.b.c.d' when served on an IPv6 socket)."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(str(value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped
    return str(address) if address is not None else None


def instance_for_address(value) -> Instance | None:
    address = source_address(value)
    if address is None:
        return None
    owners = set(
        FixedIP.objects.filter(address=address, allocated=True, instance_uuid__isnull=False,
                               network__deleted_at__isnull=True).values_list("instance_uuid", flat=True)
    )
    if len(owners) != 1:  # nobody, or the same address on two networks: answer no one
        return None
    return Instance.objects.exclude(vm_state__in=GONE_STATES).filter(uuid=owners.pop()).first()


def ec2_image_id(image_id: str, kind: str = "ami") -> str:
    """A stable EC2-style id (`ami-1a2b3c4d`) for an image uuid (its first 32 bits)."""
    try:
        digits = uuid_lib.UUID(str(image_id)).hex[:8]
    except ValueError:
        digits = hashlib.sha1(str(image_id).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{kind}-{digits}"


def _image_kind(image_id: str) -> str:
    """ami for machine images, aki/ari for kernels and ramdisks (as EC2 names them)."""
    try:
        image = Image.all_objects.filter(id=uuid_lib.UUID(str(image_id))).only("disk_format").first()
    except ValueError:
        image = None
    return image.disk_format if image is not None and image.disk_format in ("aki", "ari") else "ami"


def floating_addresses(instance: Instance) -> list[str]:
    """The floating addresses associated to the instance's fixed IPs (when the floating IP app
    is installed), oldest association first."""
    try:
        model = apps.get_model("floating", "FloatingIP")
    except LookupError:
        return []
    rows = model.objects.filter(instance_uuid=instance.uuid, fixed_ip__instance_uuid=instance.uuid)
    return [str(a) for a in rows.order_by("id").values_list("address", flat=True)]


def decode_user_data(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value.encode(), validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass
class InstanceData:
    instance: Instance
    hostname: str
    fixed_ips: list[str]
    floating_ips: list[str]
    security_groups: list[str]
    availability_zone: str
    ami_id: str
    kernel_id: str | None
    ramdisk_id: str | None
    user_data: bytes | None
    keys: list[dict] = field(default_factory=list)  # [{"name", "type", "data"}]
    password: str = ""  # what the guest posted to /openstack/<version>/password

    @property
    def block_device_mapping(self) -> dict:
        return {"ami": ROOT_DEVICE.removeprefix("/dev/"), "root": ROOT_DEVICE}


def hostname_of(instance: Instance) -> str:
    """`<hostname>.<dhcp domain>`, as the guest's DHCP lease names it (Nova's _get_hostname)."""
    domain = getattr(settings, "DHCP_DOMAIN", "novalocal")
    return f"{instance.hostname}.{domain}" if domain else instance.hostname


def _keys(instance: Instance) -> list[dict]:
    if not instance.key_name:
        return []
    pair = KeyPair.objects.filter(user_id=instance.user_id, name=instance.key_name).first()
    key_type = pair.type if pair is not None else "ssh"
    # the key the instance was created with, even if the pair was replaced or deleted since
    return [{"name": instance.key_name, "type": key_type, "data": instance.key_data or ""}]


def collect(instance: Instance) -> InstanceData:
    fixed = list(FixedIP.objects.filter(instance_uuid=instance.uuid, allocated=True)
                 .order_by("network_id", "id").values_list("address", flat=True))
    return InstanceData(
        instance=instance,
        hostname=hostname_of(instance),
        fixed_ips=[str(a) for a in fixed],
        floating_ips=floating_addresses(instance),
        security_groups=[str(name) for name in (instance.security_groups or ["default"])],
        availability_zone=instance.availability_zone or settings.DEFAULT_AVAILABILITY_ZONE,
        ami_id=ec2_image_id(instance.image_ref, _image_kind(instance.image_ref)) if instance.image_ref else "",
        kernel_id=ec2_image_id(instance.kernel_id, "aki") if instance.kernel_id else None,
        ramdisk_id=ec2_image_id(instance.ramdisk_id, "ari") if instance.ramdisk_id else None,
        user_data=decode_user_data(instance.user_data),
        keys=_keys(instance),
        password=passwords.get(instance.uuid),
    )
