"""The floating app's part of a host's orphan cleanup (the `orphan_sweep` host hook, run by
network.services.orphans.cleanup_orphans): floating IPs still associated with an instance
that is deleted or has no row are disassociated (never a floating IP pointing at a dead
server), and the host's NAT is rewritten from the DB (stale rules deleted)."""
import logging

from compute.models import Instance

from ..models import FloatingIP
from .addresses import disassociate_instance
from .host import sync_host

log = logging.getLogger(__name__)


def _dead(uuids) -> set:
    uuids = set(uuids)
    live = set(Instance.objects.filter(uuid__in=uuids).values_list("uuid", flat=True))
    return uuids - live


def disassociate_floating(host: str) -> list[str]:
    rows = FloatingIP.objects.filter(host=host, instance_uuid__isnull=False)
    addresses = []
    for instance_uuid in sorted(_dead(rows.values_list("instance_uuid", flat=True)), key=str):
        addresses += list(rows.filter(instance_uuid=instance_uuid).values_list("address", flat=True))
        disassociate_instance(instance_uuid)
        log.warning("floating IPs %s pointed at deleted instance %s: disassociated", addresses, instance_uuid)
    return addresses


def sweep(host: str) -> dict:
    """{"floating_ips": addresses disassociated, "nat": addresses removed from the host}."""
    disassociated = disassociate_floating(host)
    return {"floating_ips": disassociated, "nat": sync_host(host, only_if_needed=True)["removed"]}
