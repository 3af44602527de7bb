"""What a project still owns, and its clean-up by an admin (`manage.py project scrub`, the
seeds' `nova-manage project scrub`), meant for a deleted project (Keystone deletes a project
without touching Nova's resources: identity.services.accounts.delete_project keeps a
tombstone) but usable on any.

    holdings(project_id) -> Holdings            what is left, per kind
    scrub_pass(project_id, request_id) -> dict  one pass: every deletion that may start now

Each pass goes through the same services as the APIs, so quota and usage are given back the
way a user's delete gives them back, exactly once (a second pass finds nothing more to do):

1. servers: deleted (the host tears down the guest, its addresses, its chain; attached
   volumes are detached when the instance row is deleted);
2. floating IPs: disassociated and returned to their pool;
3. volume snapshots, then the volumes no server holds any more;
4. images the project owns (a protected image is reported, not deleted);
5. once the project has no live server: its server groups, its security groups, and its
   VLAN networks go back to the pool (what nova-manage's scrub did).

Server and volume deletion finish on their hosts: run passes until `pending` is empty
(`scrub(project_id, wait=...)` does that).
"""
import logging
import time
import uuid as uuid_lib
from dataclasses import dataclass

from cloudproj.exceptions import CloudError
from floating.models import FloatingIP
from floating.services import addresses as floating_service
from images.models import Image
from images.services import registry as image_service
from network.models import Network
from network.services import vlan as vlan_service
from secgroups.models import SecurityGroup
from secgroups.services import groups as secgroup_service
from volumes import states as volume_states
from volumes.models import Snapshot, Volume, VolumeAttachment
from volumes.services import snapshots as snapshot_service
from volumes.services import volumes as volume_service

from .. import states
from ..models import Instance, ServerGroup
from . import operations
from . import server_groups as server_group_service

log = logging.getLogger(__name__)


KINDS = ("servers", "floating_ips", "snapshots", "volumes", "images", "server_groups", "security_groups",
         "networks")


@dataclass
class OperatorContext:
    """The caller of a scrub: an operator acting on the project (admin rights, no user)."""

    project_id: str
    request_id: str
    user_id: str | None = None
    is_admin: bool = True


@dataclass
class Holdings:
    servers: int
    volumes: int
    snapshots: int
    floating_ips: int
    images: int
    server_groups: int
    security_groups: int
    networks: int

    def as_dict(self) -> dict:
        return dict(vars(self))

    @property
    def empty(self) -> bool:
        return not any(vars(self).values())


def holdings(project_id: str) -> Holdings:
    """Live resources the project owns."""
    return Holdings(
        servers=Instance.objects.filter(project_id=project_id).count(),
        volumes=Volume.objects.filter(project_id=project_id).count(),
        snapshots=Snapshot.objects.filter(project_id=project_id).count(),
        floating_ips=FloatingIP.objects.filter(project_id=project_id).count(),
        images=Image.objects.filter(owner_id=project_id).count(),
        server_groups=ServerGroup.objects.filter(project_id=project_id).count(),
        security_groups=SecurityGroup.objects.filter(project_id=project_id).count(),
        networks=Network.objects.filter(project_id=project_id).count(),
    )


def _attempt(report: dict, kind: str, what: str, action) -> None:
    """Run one deletion; a refusal (the resource is busy) is reported, not raised."""
    try:
        action()
    except (CloudError, image_service.ImageError) as exc:
        report["refused"].append(f"{kind} {what}: {exc}")
    else:
        report[kind].append(what)


def scrub_pass(project_id: str, request_id: str | None = None, retry_deleting: bool = True) -> dict:
    """Start every deletion that may start now; returns {kind: [what was done], "refused":
    [why not], "pending": Holdings of what is left (as a dict)}. A server already `deleting`
    is asked again only with `retry_deleting` (one stuck there by an earlier failure, as the
    API's delete does in any state); later passes of one scrub leave its host at work."""
    ctx = OperatorContext(project_id=project_id, request_id=request_id or f"req-scrub-{uuid_lib.uuid4()}")
    report: dict = {kind: [] for kind in KINDS}
    report["refused"] = []

    for instance in Instance.objects.filter(project_id=project_id).order_by("id"):
        if instance.task_state == states.task.DELETING and not retry_deleting:
            continue  # its host is tearing it down
        _attempt(report, "servers", str(instance.uuid), lambda i=instance: operations.delete_server(ctx, i))

    for row in FloatingIP.objects.filter(project_id=project_id).order_by("id"):
        _attempt(report, "floating_ips", row.address, lambda r=row: floating_service.release(ctx, r))

    for snapshot in Snapshot.objects.filter(project_id=project_id).order_by("id"):
        if snapshot.status == volume_states.DELETING:
            continue
        _attempt(report, "snapshots", str(snapshot.uuid),
                 lambda s=snapshot: snapshot_service.delete_snapshot(ctx, s))

    for volume in Volume.objects.filter(project_id=project_id).order_by("id"):
        if volume.status == volume_states.DELETING:
            continue
        if VolumeAttachment.objects.filter(volume=volume).exists() or Snapshot.objects.filter(volume=volume).exists():
            continue  # detached when its server is deleted; its snapshots go first
        _attempt(report, "volumes", str(volume.uuid), lambda v=volume: volume_service.delete_volume(ctx, v))

    for image in Image.objects.filter(owner_id=project_id).order_by("created_at"):
        _attempt(report, "images", str(image.id), lambda i=image: image_service.delete_image(i))

    if not Instance.objects.filter(project_id=project_id).exists():
        for server_group in ServerGroup.objects.filter(project_id=project_id).order_by("id"):
            _attempt(report, "server_groups", server_group.name,
                     lambda g=server_group: server_group_service.delete_group(ctx, g.uuid))
        for group in SecurityGroup.objects.filter(project_id=project_id).order_by("id"):
            _attempt(report, "security_groups", group.name,
                     lambda g=group: secgroup_service.delete_group(g, allow_default=True))
        for network in Network.objects.filter(project_id=project_id).order_by("id"):
            _attempt(report, "networks", network.label, lambda n=network: vlan_service.disassociate(n))

    report["pending"] = holdings(project_id).as_dict()
    log.info("scrub pass of project %s: %s", project_id, report)
    return report


def scrub(project_id: str, wait: float = 0, interval: float = 2.0) -> dict:
    """Scrub passes until the project owns nothing or `wait` seconds passed (0: one pass).
    Returns the passes' reports merged ("pending" from the last)."""
    deadline = time.monotonic() + wait
    merged: dict = {}
    first = True
    while True:
        report = scrub_pass(project_id, retry_deleting=first)
        first = False
        for kind, done in report.items():
            if kind == "pending":
                merged[kind] = done
            elif kind == "refused":
                merged[kind] = done  # only the last pass's refusals still hold
            else:
                merged.setdefault(kind, []).extend(done)
        if not any(report["pending"].values()) or time.monotonic() >= deadline:
            return merged
        time.sleep(interval)
