"""Volumes and volume snapshots of the project, through volumes.services (the Block Storage
API's services) after the same policy checks: create (empty or from a snapshot), extend,
attach / detach (Compute's os-volume_attachments service), snapshot, delete. A volume in a
transitional status (creating, attaching, extending, ...) makes the lists reload themselves every
DASHBOARD_POLL_SECONDS until none is."""
from django.conf import settings
from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import APIException

from compute.models import Instance
from compute.services import instances as instance_service
from cloudproj.exceptions import CloudError
from identity.services.policy import enforce
from volumes import states
from volumes.models import Volume, VolumeAttachment
from volumes.services import attachments, snapshots, volumes

from ..datatable import Column, Table
from ..project_forms import VolumeCreateForm
from .common import dashboard_view, error_message, next_or

PAGE = "/dashboard/volumes/"
TRANSITIONAL = {states.CREATING, states.ATTACHING, states.DETACHING, states.DELETING, states.EXTENDING,
                states.UPLOADING}
MAX_CHOICES = 500  # instances offered in an attach menu
VOLUME_COLUMNS = [Column("name", "Name", ("name",)), Column("size", "Size", ("size",)),
                  Column("status", "Status", ("status",)), Column("attached", "Attached to"),
                  Column("created", "Created", ("created_at",)), Column("actions", "Actions")]
SNAPSHOT_COLUMNS = [Column("name", "Name", ("name",)), Column("volume", "Volume", ("volume_name",)),
                    Column("size", "Size", ("size",)), Column("status", "Status", ("status",)),
                    Column("created", "Created", ("created_at",)), Column("actions", "Actions")]


def _target(ctx, row=None) -> dict:
    return {"project_id": row.project_id if row is not None else ctx.project_id}


def _attempt(request, work) -> None:
    """Run `work()` (returns the success message); a refusal becomes an error message."""
    try:
        messages.success(request, work())
    except (CloudError, APIException) as exc:
        messages.error(request, error_message(exc))


@dashboard_view
def volume_list(request):
    ctx = request.ctx
    enforce(ctx, "volume:get_all", _target(ctx))
    volume_table = Table(request, volumes.volumes_for(ctx), VOLUME_COLUMNS, default="-created", name="volumes")
    snapshot_table = Table(request, snapshots.snapshots_for(ctx).annotate(
        volume_name=Subquery(Volume.all_objects.filter(pk=OuterRef("volume_id")).values("name")[:1]),
        volume_uuid=Subquery(Volume.all_objects.filter(pk=OuterRef("volume_id")).values("uuid")[:1])),
        SNAPSHOT_COLUMNS,
                           default="-created", name="snapshots", prefix="s_")
    rows, snaps = list(volume_table.object_list), list(snapshot_table.object_list)
    form = VolumeCreateForm(request.POST or None, snapshots=list(
        snapshots.snapshots_for(ctx).filter(status=states.AVAILABLE).order_by("-created_at", "-id")))
    if request.method == "POST":
        enforce(ctx, "volume:create", _target(ctx))
        if form.is_valid():
            data = form.cleaned_data
            try:
                volume = volumes.create_volume(ctx, data["size"], name=data["name"], snapshot_id=data["snapshot"] or None)
            except (CloudError, APIException) as exc:
                form.add_error(None, error_message(exc))
            else:
                messages.success(request, f"Creating volume {volume.name or volume.uuid} ({volume.size} GB).")
                return redirect(PAGE)
    links = {v.pk: _attachment(v) for v in rows}
    names = dict(Instance.objects.filter(uuid__in=[a.instance_uuid for a in links.values() if a])
                 .values_list("uuid", "display_name"))
    table = [{"volume": v, "attachment": links[v.pk], "label": v.name or str(v.uuid),
              "instance_name": names.get(links[v.pk].instance_uuid) if links[v.pk] else None} for v in rows]
    instances = list(instance_service.instances_for(ctx).filter(host__isnull=False)
                     .order_by("display_name").values_list("uuid", "display_name")[:MAX_CHOICES])
    context = {"rows": table, "snapshots": snaps, "form": form, "instances": instances,
               "volume_table": volume_table, "snapshot_table": snapshot_table,
               "volume_bulk": (("delete", "Delete volumes", True),), "snapshot_bulk": (("delete", "Delete snapshots", True),),
               "attachable": list(volumes.volumes_for(ctx).filter(status=states.AVAILABLE)
                                  .order_by("name", "created_at")[:MAX_CHOICES]),
               "transitional": any(v.status in TRANSITIONAL for v in rows)
               or any(s.status in TRANSITIONAL for s in snaps),
               "poll_seconds": settings.DASHBOARD_POLL_SECONDS}
    return render(request, "dashboard/volumes/list.html", context, status=400 if form.errors else 200)


@require_GET
@dashboard_view
def volume_detail(request, volume_id):
    """One volume: its facts, where it is attached, its snapshots, and its actions."""
    ctx = request.ctx
    volume = _volume(request, volume_id, "volume:get")
    attachment = _attachment(volume)
    instance_name = None
    if attachment is not None:
        instance_name = (Instance.objects.filter(uuid=attachment.instance_uuid)
                         .values_list("display_name", flat=True).first())
    snaps = list(snapshots.snapshots_for(ctx).filter(volume=volume).order_by("-created_at", "-id"))
    context = {"volume": volume, "label": volume.name or str(volume.uuid), "attachment": attachment,
               "instance_name": instance_name, "snapshots": snaps,
               "source_snapshot": snapshots.snapshots_for(ctx).filter(pk=volume.snapshot_id).first()
               if volume.snapshot_id else None,
               "transitional": volume.status in TRANSITIONAL or any(s.status in TRANSITIONAL for s in snaps),
               "poll_seconds": settings.DASHBOARD_POLL_SECONDS}
    return render(request, "dashboard/volumes/detail.html", context)


def _attachment(volume):
    try:
        return volume.attachment
    except VolumeAttachment.DoesNotExist:
        return None


def _volume(request, volume_id, action: str):
    ctx = request.ctx
    volume = volumes.get_volume(ctx, volume_id)  # another project's: 404
    enforce(ctx, action, _target(ctx, volume))
    return volume


@require_POST
@dashboard_view
def volume_extend(request, volume_id):
    volume = _volume(request, volume_id, "volume:extend")

    def work():
        extended = volumes.extend_volume(request.ctx, volume, request.POST.get("new_size", "").strip())
        return f"Extending volume {extended.name or extended.uuid} to {request.POST['new_size'].strip()} GB."

    _attempt(request, work)
    return next_or(request, PAGE)


@require_POST
@dashboard_view
def volume_attach(request):
    ctx = request.ctx
    volume = _volume(request, request.POST.get("volume", ""), "compute:os-volumes-attachments:create")
    instance = instance_service.get_instance(ctx, request.POST.get("instance", ""))

    def work():
        attachment = attachments.attach(ctx, instance, str(volume.uuid))
        device = f" as {attachment.device}" if attachment.device else ""
        return f"Volume {volume.name or volume.uuid} attached to {instance.display_name}{device}."

    _attempt(request, work)
    return next_or(request, PAGE)


@require_POST
@dashboard_view
def volume_detach(request, volume_id):
    ctx = request.ctx
    volume = _volume(request, volume_id, "compute:os-volumes-attachments:delete")
    attachment = _attachment(volume)
    if attachment is None:
        messages.error(request, f"Volume {volume.name or volume.uuid} is not attached.")
        return next_or(request, PAGE)
    instance = instance_service.get_instance(ctx, str(attachment.instance_uuid))

    def work():
        attachments.detach(ctx, instance, str(volume.uuid))
        return f"Volume {volume.name or volume.uuid} detached from {instance.display_name}."

    _attempt(request, work)
    return next_or(request, PAGE)


@require_POST
@dashboard_view
def volume_snapshot(request, volume_id):
    volume = _volume(request, volume_id, "volume:snapshots:create")

    def work():
        snapshot = snapshots.create_snapshot(request.ctx, volume, name=request.POST.get("name", ""),
                                             force=request.POST.get("force") == "on")
        return f"Creating snapshot {snapshot.name or snapshot.uuid} of {volume.name or volume.uuid}."

    _attempt(request, work)
    return next_or(request, PAGE)


@require_POST
@dashboard_view
def volume_delete(request, volume_id):
    volume = _volume(request, volume_id, "volume:delete")

    def work():
        volumes.delete_volume(request.ctx, volume)
        return f"Deleting volume {volume.name or volume.uuid}."

    _attempt(request, work)
    return redirect(PAGE)


@require_POST
@dashboard_view
def snapshot_delete(request, snapshot_id):
    ctx = request.ctx
    snapshot = snapshots.get_snapshot(ctx, snapshot_id)
    enforce(ctx, "volume:snapshots:delete", _target(ctx, snapshot))

    def work():
        snapshots.delete_snapshot(ctx, snapshot)
        return f"Deleting snapshot {snapshot.name or snapshot.uuid}."

    _attempt(request, work)
    return next_or(request, PAGE)

