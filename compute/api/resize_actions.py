"""Resize actions on `POST /servers/{id}/action` (Nova v2.1 names), registered with
server_actions.register_action from ComputeConfig.ready:

    {"resize": {"flavorRef": id|link, "OS-DCF:diskConfig"?}}   202   compute:servers:resize
    {"confirmResize": null}                                    204   compute:servers:confirm_resize
    {"revertResize": null}                                     202   compute:servers:revert_resize
    {"migrate": null | {"host": name|null} (2.56+)}            202   compute:servers:migrate (admins)
    {"evacuate": {"host"?, "adminPass"?, "onSharedStorage": false (below 2.14)}}
                                                               200   compute:servers:evacuate (admins;
        400 while the server's host is up (Nova's ComputeServiceInUse); onSharedStorage true is
        400: no storage is shared here; from 2.14 no onSharedStorage and no adminPass in the
        answer; 2.29-2.67 `force`, which needs a host)
    {"os-migrateLive": {"host": name|null, "block_migration": bool|"auto", ...}}
                                                               202   compute:servers:migrate_live (admins):
        a live block migration (compute/services/live_migration.py); block_migration false is 400
        (no instance storage is shared here); the body per version: migrate_live_request (2.25
        block_migration "auto", no disk_over_commit; 2.30 force); its progress, abort and
        force-complete: server_migrations.py

The work is compute/services/resize.py's; a state that does not allow it answers 409.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from cloudproj.exceptions import NotFound as ComputeNotFound
from compute.services import evacuate as evacuate_service
from compute.services import flavors as flavor_service
from compute.services import live_migration
from compute.services import resize as resize_service

from .base import api_version, parse_bool
from .servers import check_object, disk_config, generate_password, last_segment

def resize(view, server_id, value):
    body = check_object(value, "resize", {"flavorRef", "OS-DCF:diskConfig"})
    flavor_ref = body.get("flavorRef")
    if isinstance(flavor_ref, bool) or not isinstance(flavor_ref, (str, int)) or flavor_ref == "":
        raise BadRequest("Invalid input for field/attribute flavorRef: must be a string or an integer.")
    auto_disk_config = disk_config(body["OS-DCF:diskConfig"]) if "OS-DCF:diskConfig" in body else None
    instance = view.server(server_id, "compute:servers:resize")
    try:
        flavor = flavor_service.get_flavor(last_segment(flavor_ref), view.ctx.project_id, view.ctx.is_admin)
    except ComputeNotFound:
        raise BadRequest("Unable to locate requested flavor.") from None
    resize_service.resize_server(view.ctx, instance, flavor, auto_disk_config=auto_disk_config)
    return Response(status=202)


def _null(value, action: str) -> None:
    if value not in (None, {}):
        raise BadRequest(f"Invalid input for field/attribute {action}: must be null.")


def confirm_resize(view, server_id, value):
    _null(value, "confirmResize")
    instance = view.server(server_id, "compute:servers:confirm_resize")
    resize_service.confirm_resize(view.ctx, instance)
    return Response(status=204)


def revert_resize(view, server_id, value):
    _null(value, "revertResize")
    instance = view.server(server_id, "compute:servers:revert_resize")
    resize_service.revert_resize(view.ctx, instance)
    return Response(status=202)


def migrate(view, server_id, value):
    host = None
    if api_version(view.request) >= (2, 56) and value is not None:
        body = check_object(value, "migrate", {"host"})
        host = body.get("host")
        if host is not None and (not isinstance(host, str) or not 1 <= len(host) <= 255):
            raise BadRequest("Invalid input for field/attribute host: must be a string of 1 to 255 characters.")
    else:
        _null(value, "migrate")
    instance = view.server(server_id, "compute:servers:migrate")
    resize_service.migrate_server(view.ctx, instance, host)
    return Response(status=202)


FORCE_REMOVED_VERSION = (2, 68)  # no `force` in evacuate and os-migrateLive


def _no_force(view, value, action: str) -> None:
    if api_version(view.request) >= FORCE_REMOVED_VERSION and isinstance(value, dict) and "force" in value:
        raise BadRequest(f"Invalid input for field/attribute {action}: additional properties are not allowed "
                         "(force): forcing a destination host was removed in 2.68.")


def evacuate(view, server_id, value):
    _no_force(view, value, "evacuate")
    before_2_14 = api_version(view.request) < (2, 14)
    # 2.14 dropped onSharedStorage (the cloud knows) and the adminPass in the answer
    with_force = (2, 29) <= api_version(view.request) < (2, 68)
    body = check_object(value, "evacuate", ({"host", "adminPass", "onSharedStorage"} if before_2_14
                                            else {"host", "adminPass"}) | ({"force"} if with_force else set()))
    if before_2_14:
        if "onSharedStorage" not in body:
            raise BadRequest("Invalid input for field/attribute evacuate: 'onSharedStorage' is a required property.")
        shared = body["onSharedStorage"]
        if not isinstance(shared, bool):
            raise BadRequest("Invalid input for field/attribute onSharedStorage: must be a boolean.")
        if shared:
            raise BadRequest("onSharedStorage is not supported: the hosts of this cloud share no instance storage; "
                             "the server is rebuilt from its image.")
    host = body.get("host")
    if host is not None and (not isinstance(host, str) or not 1 <= len(host) <= 255):
        raise BadRequest("Invalid input for field/attribute host: must be a string of 1 to 255 characters.")
    password = body.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise BadRequest("Invalid input for field/attribute adminPass: must be a string.")
    # 2.29 force: Nova skips the scheduler's check of the named host; here the host is still
    # checked (the scheduler's claim keeps the host's capacity right): a forced host must fit
    if "force" in body and parse_bool(body["force"], "force") and not host:
        raise BadRequest("Can't force to a non-provided destination")
    instance = view.server(server_id, "compute:servers:evacuate")
    evacuate_service.evacuate_server(view.ctx, instance, host)
    if not before_2_14:
        return Response(status=200)
    return Response({"adminPass": password or generate_password()}, status=200)


def migrate_live_request(view, value) -> dict:
    """The os-migrateLive body per microversion (Nova's schemas), as {"host", "block_migration",
    "disk_over_commit"?, "force"?}; 400 for what the version does not take.

    2.1-2.24: block_migration, disk_over_commit and host (null: the scheduler picks) all required;
    2.25: no disk_over_commit, block_migration may be "auto"; 2.30-2.67: optional force."""
    version = api_version(view.request)
    fields = {"block_migration", "host"} if version >= (2, 25) else {"block_migration", "disk_over_commit", "host"}
    allowed = fields | ({"force"} if (2, 30) <= version < (2, 68) else set())
    body = check_object(value, "os-migrateLive", allowed)
    missing = sorted(fields - set(body))
    if missing:
        raise BadRequest(f"Invalid input for field/attribute os-migrateLive: '{missing[0]}' is a required property.")
    host = body["host"]
    if host is not None and (not isinstance(host, str) or not 1 <= len(host) <= 255):
        raise BadRequest("Invalid input for field/attribute host: must be a string of 1 to 255 characters or null.")
    block = body["block_migration"]
    request = {"host": host, "block_migration": "auto" if version >= (2, 25) and block == "auto"
               else parse_bool(block, "block_migration")}
    for optional in ("disk_over_commit", "force"):
        if optional in body:
            request[optional] = parse_bool(body[optional], optional)
    return request


def migrate_live(view, server_id, value):
    _no_force(view, value, "os-migrateLive")
    request = migrate_live_request(view, value)
    instance = view.server(server_id, "compute:servers:migrate_live")
    live_migration.live_migrate_server(view.ctx, instance, request["host"],
                                       block_migration=request["block_migration"] is not False)
    return Response(status=202)


def register() -> None:
    from .server_actions import register_action

    register_action("resize", resize)
    register_action("confirmResize", confirm_resize)
    register_action("revertResize", revert_resize)
    register_action("migrate", migrate)
    register_action("os-migrateLive", migrate_live)
    register_action("evacuate", evacuate)
