"""Server actions (`POST /servers/{id}/action`): one key per request, Nova v2.1 names.

    {"reboot": {"type": "SOFT"|"HARD"}}      202   compute:servers:reboot
    {"os-stop": null} / {"os-start": null}   202   compute:servers:stop / start
    {"pause"|"unpause"|"suspend"|"resume": null}   202
    {"rebuild": {"imageRef", "name"?, "metadata"?, ...}}   202 + the server
    {"os-getConsoleOutput": {"length": n|null}}           200 {"output": "..."}
    {"createImage": {"name", "metadata"?}}    202, Location: the snapshot image
    {"createBackup": {"name", "backup_type", "rotation", "metadata"?}}   202, Location: the backup
                                              image; the oldest backups beyond `rotation` go
    {"restore": null}                        202   a SOFT_DELETED server back to ACTIVE
    {"os-resetState": {"state": "active"|"error"}}   202   admins (os-admin-actions:reset_state)
    {"forceDelete": null}                     202   delete in any state, host or not
    {"injectNetworkInfo": null}               202   admins: the DHCP entries pushed again
    {"trigger_crash_dump": null}              202   from 2.17: an NMI into the running guest

A state that does not allow the action answers 409 (compute.states.check_allowed).
Other apps add actions (addFloatingIp, addSecurityGroup ...) with `register_action` from
their AppConfig.ready: handler(view, server_id, value) -> Response.
"""
import re

from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.services import crash_dump
from compute.services import instances as instance_service
from compute.services import operations, snapshots
from images.api.common import image_base

from .base import api_version
from .servers import (DESCRIPTION_VERSION, PERSONALITY_REMOVED_VERSION, TRUSTED_CERTS_VERSION, ServerAPIView,
                      access_ip, check_object, disk_config, find_image, generate_password)

# action -> (policy suffix, operations.request_action name)
SIMPLE_ACTIONS = {
    "os-stop": ("stop", "stop"),
    "os-start": ("start", "start"),
    "pause": ("pause", "pause"),
    "unpause": ("unpause", "unpause"),
    "suspend": ("suspend", "suspend"),
    "resume": ("resume", "resume"),
    "restore": ("restore", "restore"),  # a SOFT_DELETED server (RECLAIM_INSTANCE_INTERVAL > 0)
}
REBUILD_FIELDS = {
    "imageRef", "name", "adminPass", "metadata", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6",
    "personality", "preserve_ephemeral",
}
REBOOT_TYPES = ("SOFT", "HARD")


def rebuild_fields(version) -> set:
    """The keys of a rebuild at `version`: description from 2.19, key_name from 2.54, user_data
    instead of personality from 2.57, trusted_image_certificates from 2.63."""
    allowed = set(REBUILD_FIELDS)
    if version >= DESCRIPTION_VERSION:
        allowed.add("description")
    if version >= (2, 54):
        allowed.add("key_name")
    if version >= TRUSTED_CERTS_VERSION:
        allowed.add("trusted_image_certificates")
    if version >= PERSONALITY_REMOVED_VERSION:
        allowed = (allowed - {"personality"}) | {"user_data"}
    return allowed


def body_admin_pass(value: dict):
    password = value.get("adminPass")
    if password is not None and not isinstance(password, str):
        raise BadRequest("Invalid input for field/attribute adminPass: must be a string.")
    return password
EXTRA_ACTIONS: dict = {}


def register_action(name: str, handler) -> None:
    EXTRA_ACTIONS[name] = handler


# Nova strips control characters (but tab and newline) from console output
CONSOLE_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


class ServerActionView(ServerAPIView):
    def post(self, request, server_id):
        data = request.data
        if not isinstance(data, dict) or len(data) != 1:
            raise BadRequest("Malformed request body: exactly one action is expected.")
        action, value = next(iter(data.items()))
        if action in SIMPLE_ACTIONS:
            rule, operation = SIMPLE_ACTIONS[action]
            instance = self.server(server_id, f"compute:servers:{rule}")
            operations.request_action(self.ctx, instance, operation)
            return Response(status=202)
        handler = {
            "reboot": self.reboot,
            "rebuild": self.rebuild,
            "os-getConsoleOutput": self.console_output,
            "createImage": self.create_image,
            "os-resetState": self.reset_state,
            "forceDelete": self.force_delete,
            "injectNetworkInfo": self.inject_network_info,
            "createBackup": self.create_backup,
            "trigger_crash_dump": self.trigger_crash_dump,
        }.get(action)
        if handler is None and action in EXTRA_ACTIONS:
            return EXTRA_ACTIONS[action](self, server_id, value)
        if handler is None:
            raise BadRequest(f"There is no such action: {action}")
        return handler(server_id, value)

    def trigger_crash_dump(self, server_id, value):
        """2.17: {"trigger_crash_dump": null}; 404 below 2.17 (as Nova's versioned action)."""
        if api_version(self.request) < (2, 17):
            raise NotFound("The resource could not be found.")
        if value is not None:
            raise BadRequest("Invalid input for field/attribute trigger_crash_dump: must be null.")
        instance = self.server(server_id, "compute:servers:trigger_crash_dump")
        crash_dump.request(self.ctx, instance)
        return Response(status=202)

    def reboot(self, server_id, value):
        body = check_object(value, "reboot", {"type"})
        reboot_type = body.get("type")
        if not isinstance(reboot_type, str) or reboot_type.upper() not in REBOOT_TYPES:
            raise BadRequest("Invalid input for field/attribute type: must be 'SOFT' or 'HARD'.")
        instance = self.server(server_id, "compute:servers:reboot")
        operations.request_action(self.ctx, instance, "reboot", reboot_type=reboot_type.upper())
        return Response(status=202)

    def rebuild(self, server_id, value):
        version = api_version(self.request)
        body = check_object(value, "rebuild", rebuild_fields(version))
        admin_pass = body_admin_pass(body)
        changes = {}
        if "key_name" in body:  # 2.54: null removes the key pair
            if body["key_name"] is not None and not isinstance(body["key_name"], str):
                raise BadRequest("Invalid input for field/attribute key_name: must be a string or null.")
            changes["key_name"], changes["key_data"] = instance_service.keypair_fields(self.ctx.user,
                                                                                      body["key_name"])
        if "user_data" in body:  # 2.57: null removes it
            changes["user_data"] = instance_service.validate_user_data(body["user_data"])
        if "trusted_image_certificates" in body:  # 2.63: null removes them (volume-backed: rebuild refused)
            changes["trusted_certs"] = instance_service.validate_trusted_certs(body["trusted_image_certificates"])
        if not isinstance(body.get("imageRef"), str) or not body["imageRef"]:
            raise BadRequest("Invalid input for field/attribute imageRef: a string is required.")
        if body.get("personality"):
            raise BadRequest("personality is not supported by this cloud.")
        if "OS-DCF:diskConfig" in body:
            changes["auto_disk_config"] = disk_config(body["OS-DCF:diskConfig"])
        if "description" in body:  # null removes it
            changes["display_description"] = instance_service.validate_description(body["description"])
        if "name" in body and not isinstance(body["name"], str):
            raise BadRequest("Invalid input for field/attribute name: must be a string.")
        for field, key, version in (("access_ip_v4", "accessIPv4", 4), ("access_ip_v6", "accessIPv6", 6)):
            if key in body:
                changes[field] = access_ip(body[key], key, version)
        instance = self.server(server_id, "compute:servers:rebuild")
        image = find_image(self.ctx, body["imageRef"], "Cannot find image for rebuild")
        operations.rebuild_server(self.ctx, instance, image, name=body.get("name"), metadata=body.get("metadata"))
        if changes:
            instance_service.update_state(instance, **changes)
        answer = self.show_brief(instance)
        # as on create: the password asked for, or one made up; none is kept
        answer["server"]["adminPass"] = admin_pass if admin_pass is not None else generate_password()
        return Response(answer, status=202)

    def reset_state(self, server_id, value):
        body = check_object(value, "os-resetState", {"state"})
        instance = self.server(server_id, "compute:servers:reset_state")
        operations.reset_state(self.ctx, instance, body.get("state"))
        return Response(status=202)

    def inject_network_info(self, server_id, value):
        if value not in (None, {}):
            raise BadRequest("Invalid input for field/attribute injectNetworkInfo: must be null.")
        instance = self.server(server_id, "compute:servers:inject_network_info")
        operations.inject_network_info(self.ctx, instance)
        return Response(status=202)

    def force_delete(self, server_id, value):
        if value not in (None, {}):
            raise BadRequest("Invalid input for field/attribute forceDelete: must be null.")
        instance = self.server(server_id, "compute:servers:force_delete")
        operations.force_delete(self.ctx, instance)
        return Response(status=202)

    def create_image(self, server_id, value):
        body = check_object(value, "createImage", {"name", "metadata"})
        instance = self.server(server_id, "compute:servers:create_image")
        image = snapshots.snapshot_server(self.ctx, instance, body.get("name"), body.get("metadata"))
        response = Response(status=202)
        response["Location"] = f"{image_base(self.request)}/v2/images/{image.id}"
        return response

    def create_backup(self, server_id, value):
        body = check_object(value, "createBackup", {"name", "backup_type", "rotation", "metadata"})
        for field in ("name", "backup_type", "rotation"):
            if field not in body:
                raise BadRequest(f"Invalid input for field/attribute createBackup: '{field}' is a required property.")
        rotation = body["rotation"]
        if isinstance(rotation, str) and rotation.strip().isdigit():
            rotation = int(rotation)
        instance = self.server(server_id, "compute:servers:create_backup")
        image = snapshots.backup_server(self.ctx, instance, body["name"], body["backup_type"], rotation,
                                        body.get("metadata"))
        response = Response(status=202)
        response["Location"] = f"{image_base(self.request)}/v2/images/{image.id}"
        return response

    def console_output(self, server_id, value):
        body = check_object(value if value is not None else {}, "os-getConsoleOutput", {"length"})
        length = body.get("length")
        if isinstance(length, str) and re.fullmatch(r"-?[0-9]+", length.strip()):
            length = int(length)
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < -1):
            raise BadRequest("Invalid input for field/attribute length: must be an integer >= -1 or null.")
        if length == -1:
            length = None
        instance = self.server(server_id, "compute:servers:console_output")
        output = operations.console_output(self.ctx, instance, length=length)
        return Response({"output": CONSOLE_CONTROL.sub("", output)})
