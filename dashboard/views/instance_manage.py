"""Detail-page operations on one instance: rename, rebuild from an image, snapshot, security
groups, volumes. Each goes
through the service the matching Compute API call uses, after the same policy check."""
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from compute.api.servers import find_image
from compute.services import instances as instance_service
from compute.services import operations, snapshots
from cloudproj.exceptions import CloudError, Invalid
from identity.services.policy import enforce
from secgroups.services import membership
from volumes.services import attachments

from .common import dashboard_view, error_message
from .instances import target


def _operate(request, instance_id, action: str, work):
    """Find the instance (another project's: 404), enforce `action`, run `work(instance)`
    (returns the success message); a refusal becomes a message on the detail page."""
    ctx = request.ctx
    instance = instance_service.get_instance(ctx, instance_id)
    enforce(ctx, action, target(instance))
    try:
        messages.success(request, work(instance))
    except (CloudError, APIException) as exc:
        messages.error(request, f"{instance.display_name}: {error_message(exc)}")
    return redirect(f"/dashboard/instances/{instance.uuid}/")


@require_POST
@dashboard_view
def instance_rename(request, instance_id):
    def work(instance):
        old = instance.display_name
        operations.rename_server(request.ctx, instance, request.POST.get("name", ""))
        return f"{old} renamed to {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:update", work)


@require_POST
@dashboard_view
def instance_rebuild(request, instance_id):
    def work(instance):
        image = find_image(request.ctx, request.POST.get("image", ""), "Cannot find image for rebuild")
        operations.rebuild_server(request.ctx, instance, image)
        return f"Rebuilding {instance.display_name}."

    return _operate(request, instance_id, "compute:servers:rebuild", work)


@require_POST
@dashboard_view
def instance_snapshot(request, instance_id):
    def work(instance):
        image = snapshots.snapshot_server(request.ctx, instance, request.POST.get("name", ""))
        return f"Snapshot {image.name} of {instance.display_name} requested; it becomes active in Images."

    return _operate(request, instance_id, "compute:servers:create_image", work)


@require_POST
@dashboard_view
def instance_security_group(request, instance_id):
    """Add the instance to a group of its project, or remove it from one (`change` = add/remove)."""
    name, change = request.POST.get("name", ""), request.POST.get("change", "")
    if change not in ("add", "remove"):
        raise Invalid("Unknown change of security groups.")

    def work(instance):
        if change == "add":
            membership.add_to_instance(instance, name)
            return f"{instance.display_name} added to security group {name}."
        membership.remove_from_instance(instance, name)
        return f"{instance.display_name} removed from security group {name}."

    return _operate(request, instance_id, f"compute:server_security_groups:{change}", work)


@require_POST
@dashboard_view
def instance_volume(request, instance_id):
    """Attach a volume of the project (`change` = attach) or detach one (`change` = detach);
    both wait for the hosts, as `os-volume_attachments` does."""
    volume_id, change = request.POST.get("volume", ""), request.POST.get("change", "")
    if change not in ("attach", "detach"):
        raise Invalid("Unknown change of volumes.")

    def work(instance):
        if change == "attach":
            attachment = attachments.attach(request.ctx, instance, volume_id)
            device = f" as {attachment.device}" if attachment.device else ""
            return f"Volume {attachment.volume.name or volume_id} attached to {instance.display_name}{device}."
        attachments.detach(request.ctx, instance, volume_id)
        return f"Volume {volume_id} detached from {instance.display_name}."

    action = "create" if change == "attach" else "delete"
    return _operate(request, instance_id, f"compute:os-volumes-attachments:{action}", work)
