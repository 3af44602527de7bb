"""Bulk actions of the tables (issue 20): the rows ticked in a table, one action for each of
them, through the same services and policy checks as the panels' single-row actions (and so as
the API). Each object is done on its own: one refused (policy, state, in use) does not stop the
others, and the messages say which was done and which was not, by name. The browser has already
asked "Delete a, b, c?" naming them (dashboard.js, `data-confirm-selection`)."""
from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from cloudproj.exceptions import CloudError
from compute.services import instances as instance_service
from compute.services import keypairs as keypair_service
from compute.services import operations
from floating.services import addresses
from identity.services.policy import enforce
from images.api.common import check
from images.services import registry
from secgroups.services import groups
from volumes.services import snapshots, volumes

from .common import back, dashboard_view, error_message, error_page

MAX_IDS = 200  # the largest page size: a bulk action covers at most one page of rows


def _instance_action(action: str) -> Callable:
    def lookup(ctx, instance_id):
        instance = instance_service.get_instance(ctx, instance_id)  # another project's: 404
        target = {"project_id": instance.project_id, "user_id": instance.user_id}

        def run():
            if action == "delete":
                enforce(ctx, "compute:servers:delete", target)
                operations.delete_server(ctx, instance)
            else:
                enforce(ctx, f"compute:servers:{action}", target)
                operations.request_action(ctx, instance, action, reboot_type="SOFT" if action == "reboot" else None)
        return instance.display_name, run
    return lookup


def _volume_delete(ctx, volume_id):
    volume = volumes.get_volume(ctx, volume_id)

    def run():
        enforce(ctx, "volume:delete", {"project_id": volume.project_id})
        volumes.delete_volume(ctx, volume)
    return volume.name or str(volume.uuid), run


def _snapshot_delete(ctx, snapshot_id):
    snapshot = snapshots.get_snapshot(ctx, snapshot_id)

    def run():
        enforce(ctx, "volume:snapshots:delete", {"project_id": snapshot.project_id})
        snapshots.delete_snapshot(ctx, snapshot)
    return snapshot.name or str(snapshot.uuid), run


def _image_delete(ctx, image_id):
    try:
        image = registry.get_visible(image_id, ctx.project_id, ctx.is_admin)
    except registry.ImageNotFound as exc:
        raise Http404(exc.message) from None

    def run():
        check(ctx, "image:delete_image", image)
        try:
            registry.delete_image(image)
        except registry.ImageError as exc:
            raise _Refused(exc.message) from None
    return image.name or str(image.id), run


def _keypair_delete(ctx, name):
    keypair_service.get_keypair(ctx.user, name)  # someone else's or gone: 404

    def run():
        enforce(ctx, "compute:keypairs:delete", {"user_id": ctx.user_id})
        keypair_service.delete_keypair(ctx.user, name)
    return name, run


def _group_delete(ctx, group_id):
    group = groups.get_group(group_id, ctx.project_id)  # another project's: 404

    def run():
        enforce(ctx, "compute:security_groups:delete", {"project_id": ctx.project_id})
        groups.delete_group(group)
    return group.name, run


def _floating_release(ctx, address):
    row = addresses.get_floating_ip(ctx, address)  # another project's: 404

    def run():
        enforce(ctx, "compute:floating_ips:delete", {"project_id": row.project_id or ctx.project_id})
        addresses.release(ctx, row)
    return row.address, run


# panel -> action -> (id -> (the object's name, what to do with it), the message's verb)
PANELS: dict[str, dict[str, tuple[Callable, str]]] = {
    "instances": {
        "start": (_instance_action("start"), "Requested start of"),
        "stop": (_instance_action("stop"), "Requested stop of"),
        "reboot": (_instance_action("reboot"), "Requested soft reboot of"),
        "delete": (_instance_action("delete"), "Deleting"),
    },
    "volumes": {"delete": (_volume_delete, "Deleting volumes")},
    "snapshots": {"delete": (_snapshot_delete, "Deleting snapshots")},
    "images": {"delete": (_image_delete, "Deleted images")},
    "keypairs": {"delete": (_keypair_delete, "Deleted key pairs")},
    "security-groups": {"delete": (_group_delete, "Deleted security groups")},
    "floating-ips": {"release": (_floating_release, "Released")},
}
PANELS["admin-instances"] = PANELS["instances"]


class _Refused(CloudError):
    """A service's own refusal that is not a CloudError (the image registry's)."""
    code = 409


@require_POST
@dashboard_view
def bulk_action(request, panel: str):
    actions = PANELS.get(panel)
    if actions is None:
        return error_page(request, 404, f"There is no table {panel}.")
    chosen = actions.get(request.POST.get("action", ""))
    if chosen is None:
        return error_page(request, 400, f"Choose one of these actions: {', '.join(sorted(actions))}.")
    ids = list(dict.fromkeys(v for v in request.POST.getlist("ids") if v))  # in order, once each
    fallback = "/dashboard/admin/instances/" if panel == "admin-instances" else f"/dashboard/{panel}/"
    if panel == "snapshots":
        fallback = "/dashboard/volumes/"
    if not ids:
        messages.error(request, "Select at least one row first.")
        return back(request, fallback)
    if len(ids) > MAX_IDS:
        return error_page(request, 400, f"At most {MAX_IDS} rows at once.")
    lookup, verb = chosen
    done, refused = [], []
    for object_id in ids:
        try:
            name, run = lookup(request.ctx, object_id)
        except (CloudError, APIException, Http404):
            refused.append(f"{object_id}: not found.")
            continue
        try:
            with transaction.atomic():
                run()
        except (CloudError, APIException, Http404) as exc:
            refused.append(f"{name}: {error_message(exc)}")
        else:
            done.append(name)
    if done:
        messages.success(request, f"{verb} {', '.join(done)}.")
    for line in refused:
        messages.error(request, line)
    return back(request, fallback)
