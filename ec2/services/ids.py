"""Stable EC2 ids. Rows with integer keys (instances, volumes, snapshots, security groups,
floating IPs) are `<prefix>-<key as 8+ hex digits>`; images are `ami-`/`aki-`/`ari-` and the key
of their ec2.models.ImageId row (made on first use, so an id never changes or comes back)."""
import re

from django.db import IntegrityError, transaction

from ec2.models import ImageId

from .errors import Ec2Error

ID_PATTERN = re.compile(r"^([a-z]+)-([0-9a-f]{8,16})$")
# prefix -> the error code of a malformed id of that kind
MALFORMED = {
    "i": "InvalidInstanceID.Malformed", "vol": "InvalidVolumeID.Malformed", "snap": "InvalidSnapshotID.Malformed",
    "ami": "InvalidAMIID.Malformed", "aki": "InvalidAMIID.Malformed", "ari": "InvalidAMIID.Malformed",
    "sg": "InvalidGroupId.Malformed", "eipalloc": "InvalidAllocationID.NotFound",
    "eipassoc": "InvalidAssociationID.NotFound", "r": "InvalidParameterValue", "key": "InvalidKeyPair.NotFound",
}


def ec2_id(prefix: str, key: int) -> str:
    return "%s-%08x" % (prefix, key)


def parse(value, *prefixes: str) -> tuple[str, int]:
    """(prefix, integer key) of an EC2 id with one of `prefixes`; the kind's Malformed error otherwise."""
    match = ID_PATTERN.match(value) if isinstance(value, str) else None
    if match is None or match.group(1) not in prefixes or int(match.group(2), 16) >= 2**63:  # a bigint key
        raise Ec2Error(MALFORMED.get(prefixes[0], "InvalidParameterValue"), f"Invalid id: \"{str(value)[:64]}\"")
    return match.group(1), int(match.group(2), 16)


def key_of(value, prefix: str) -> int:
    return parse(value, prefix)[1]


def image_ec2_id(image_uuid, kind: str = "ami") -> str:
    """The image's EC2 id (its mapping row made on first use; the kind is fixed then)."""
    image_uuid = str(image_uuid)
    row = ImageId.objects.filter(image_uuid=image_uuid).first()
    if row is None:
        try:
            with transaction.atomic():
                row = ImageId.objects.create(image_uuid=image_uuid, kind=kind)
        except IntegrityError:  # made by a concurrent request
            row = ImageId.objects.get(image_uuid=image_uuid)
    return ec2_id(row.kind, row.pk)


def image_ec2_ids(image_uuids, kinds: dict | None = None) -> dict:
    """{uuid: EC2 id} of many images at once (rows made for those that have none)."""
    kinds = kinds or {}
    wanted = {str(u) for u in image_uuids if u}
    known = {row.image_uuid: ec2_id(row.kind, row.pk) for row in ImageId.objects.filter(image_uuid__in=wanted)}
    for image_uuid in sorted(wanted - set(known)):
        known[image_uuid] = image_ec2_id(image_uuid, kinds.get(image_uuid, "ami"))
    return known


def image_uuid(value) -> str:
    """The image UUID an `ami-`/`aki-`/`ari-` id names; InvalidAMIID.NotFound when none."""
    prefix, key = parse(value, "ami", "aki", "ari")
    row = ImageId.objects.filter(pk=key, kind=prefix).first()
    if row is None:
        raise Ec2Error("InvalidAMIID.NotFound", f"The image id '[{value}]' does not exist")
    return row.image_uuid
