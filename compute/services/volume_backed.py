"""What a server booted from a volume cannot do here yet: rebuild, resize, rescue, shelve and
snapshots all work on a local image disk (qcow2 overlay), which such a server does not have.
They are refused with a 400 naming the reason (Nova refused rescue the same way before 2.87)
instead of failing on the host."""
from cloudproj.exceptions import Invalid
from volumes.services.boot import boots_from_volume

from ..models import Instance


def refuse(instance: Instance, action: str) -> None:
    if boots_from_volume(instance):
        raise Invalid(f"Cannot '{action}' instance {instance.uuid}: it boots from a volume; {action} of "
                      "volume-backed servers is not supported by this cloud yet.")
