"""Servers (`/servers`, `/servers/detail`, `/servers/{id}`, `/servers/{id}/ips`): thin views
over compute.services.operations and compute.services.instances, in Nova v2.1 shapes.

Create answers 202 with the first server's id and links (the boot continues in the
background: BUILD until the host reports ACTIVE or ERROR). Lists are newest first, scoped to
the caller's project (admins: `all_tenants`), paginated with `limit`/`marker` and a
`servers_links` next link; `name` and `ip` filters are regular expressions (re.search).
"""
import ipaddress
import re
import secrets
import uuid as uuid_lib
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Forbidden, NotFound
from compute import states
from compute.models import Instance
from compute.services import flavors as flavor_service
from compute.services import hosts as host_service
from compute.services import instances as instance_service
from compute.services import operations
from compute.services import server_groups as server_group_service
from cloudproj.exceptions import NotFound as ComputeNotFound
from identity.services.policy import enforce
from images.services import registry as image_service
from network.models import FixedIP
from volumes.services import types as volume_type_service

from .base import FALSE_STRINGS, TRUE_STRINGS, ComputeAPIView, api_version, compute_base, parse_bool, parse_int
from .server_view import ServerViewBuilder, security_groups_body

MAX_LIMIT = 1000
MAX_REGEX = 255
CREATE_FIELDS = {
    "name", "imageRef", "flavorRef", "adminPass", "metadata", "networks", "OS-DCF:diskConfig",
    "accessIPv4", "accessIPv6", "personality", "availability_zone", "block_device_mapping",
    "block_device_mapping_v2", "config_drive", "key_name", "min_count", "max_count",
    "return_reservation_id", "security_groups", "user_data",
}
HINT_KEYS = ("os:scheduler_hints", "OS-SCH-HNT:scheduler_hints")
UPDATE_FIELDS = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}
DESCRIPTION_VERSION = (2, 19)  # `description` in create, update, rebuild and the server
SERVER_GROUPS_VERSION = (2, 71)  # `server_groups` in show, update and rebuild
CHANGES_BEFORE_VERSION = (2, 66)
LOCKED_FILTER_VERSION = (2, 73)
PERSONALITY_REMOVED_VERSION = (2, 57)  # no personality in create and rebuild; rebuild user_data
TRUSTED_CERTS_VERSION = (2, 63)  # trusted_image_certificates in create, rebuild and the server
VOLUME_TYPE_VERSION = (2, 67)  # block_device_mapping_v2 volume_type
REQUESTED_DESTINATION_VERSION = (2, 74)  # create `host` / `hypervisor_hostname` (admins)
NETWORK_FIELDS = {"uuid", "port", "fixed_ip"}
# API sort key -> Instance field; host and node only for admins (as Nova)
SORT_KEYS = {
    key: key for key in (
        "created_at", "updated_at", "launched_at", "terminated_at", "display_name", "hostname", "uuid",
        "vm_state", "task_state", "power_state", "key_name", "availability_zone", "image_ref", "kernel_id",
        "ramdisk_id", "launch_index", "reservation_id", "project_id", "user_id", "memory_mb", "vcpus",
        "root_gb", "ephemeral_gb", "progress", "locked", "config_drive", "access_ip_v4", "access_ip_v6",
        "host", "node",
    )
} | {"instance_type_id": "flavorid", "id": "id"}
ADMIN_SORT_KEYS = {"host", "node"}
# Nova's list query parameters (schemas/servers.py index_query ... v2.73): from 2.75 any other is a 400
LIST_PARAMS = {
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id", "hostname",
    "key_name", "power_state", "vm_state", "task_state", "host", "node", "flavor", "reservation_id", "launched_at",
    "terminated_at", "availability_zone", "name", "display_name", "description", "display_description",
    "locked_by", "uuid", "root_device_name", "config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config",
    "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status", "changes-since", "ip",
    "ip6", "created_at", "block_device_mapping", "services", "metadata", "system_metadata", "info_cache",
    "security_groups", "pci_devices", "limit", "marker", "tags", "tags-any", "not-tags", "not-tags-any",
    "changes-before", "locked",
}
# sort keys Nova ignored before 2.75 (400 from 2.75); this API sorts by some of them below 2.75
SORT_KEYS_REFUSED_2_75 = {"ephemeral_gb", "id", "memory_mb", "reservation_id", "root_gb", "vcpus"}
STRICT_QUERY_VERSION = (2, 75)


# Nova's generate_password: no look-alike characters (0/O, 1/l/I), at least one of each group
PASSWORD_GROUPS = ("23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz")
PASSWORD_LENGTH = 12



# columns no server view shows: not read (nor JSON-decoded) for a page of servers
LIST_DEFERRED = ("flavor_extra_specs", "image_properties", "key_data", "requested_networks", "retry",
                 "scheduler_hints")

def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random administrator password as Nova returns it from POST /servers."""
    alphabet = "".join(PASSWORD_GROUPS)
    chars = [secrets.choice(group) for group in PASSWORD_GROUPS]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


# --- small parsers -----------------------------------------------------------------------------


def last_segment(ref) -> str:
    """An id, or the id at the end of a URL (`http://h/compute/v2.1/flavors/1` -> `1`)."""
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def check_object(value, field: str, allowed=None) -> dict:
    """`value` as a dict with no keys outside `allowed` (when given); 400 otherwise."""
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field/attribute {field}: must be an object.")
    unknown = sorted(set(value) - set(allowed)) if allowed is not None else []
    if unknown:
        raise BadRequest(f"Invalid input for field/attribute {field}: additional properties are not allowed "
                         f"({', '.join(unknown)}).")
    return value


def compile_regex(value: str, field: str):
    if len(value) > MAX_REGEX:
        raise BadRequest(f"Invalid {field} filter: at most {MAX_REGEX} characters.")
    try:
        return re.compile(value)
    except re.error as exc:
        raise BadRequest(f"Invalid regular expression in {field} filter: {exc}.") from None


def parse_changes_since(value: str, field: str = "changes-since"):
    """ISO 8601 (a date, or a time with or without a zone: UTC when none) -> aware datetime."""
    try:
        moment = parse_datetime(value.strip())
        if moment is None:
            day = parse_date(value.strip())
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise BadRequest(f"Invalid filter field: {field}.")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt_timezone.utc)
    return moment


def changes_filter(qs, params, version, field: str = "updated_at"):
    """(qs, whether a time filter was given) after `changes-since` (field >= it) and, from 2.66,
    `changes-before` (field <= it); a changes-since after changes-before is a 400."""
    since, before = params.get("changes-since"), None
    if since is not None:
        since = parse_changes_since(since, "changes-since")
        qs = qs.filter(**{f"{field}__gte": since})
    if version >= CHANGES_BEFORE_VERSION and params.get("changes-before") is not None:
        before = parse_changes_since(params["changes-before"], "changes-before")
        if since is not None and since > before:
            raise BadRequest("The value of changes-since must be less than or equal to changes-before.")
        qs = qs.filter(**{f"{field}__lte": before})
    return qs, since is not None or before is not None


def access_ip(value, field: str, version: int):
    if value in (None, ""):
        return None
    try:
        address = ipaddress.ip_address(value) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise BadRequest(f"Invalid input for field/attribute {field}: {value!r} is not an IPv{version} address.")
    return str(address)


def disk_config(value) -> bool:
    """OS-DCF:diskConfig: True for AUTO, False for MANUAL."""
    if value not in ("AUTO", "MANUAL"):
        raise BadRequest("Invalid input for field/attribute OS-DCF:diskConfig: must be AUTO or MANUAL.")
    return value == "AUTO"


def image_mapping(image) -> dict:
    """What create/rebuild take from an Image: id, status, properties, sizes, kernel/ramdisk."""
    properties = dict(image.properties or {})
    return {
        "id": str(image.id),
        "status": image.status,
        "properties": properties,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "size": image.size or 0,
        "kernel_id": properties.get("kernel_id"),
        "ramdisk_id": properties.get("ramdisk_id"),
    }


def find_image(ctx, image_ref, missing_message: str | None = None) -> dict:
    image_id = last_segment(image_ref)
    try:
        image = image_service.get_visible(image_id, ctx.project_id, ctx.is_admin)
    except image_service.ImageNotFound:
        raise BadRequest(missing_message or f"Image {image_id} could not be found.") from None
    return image_mapping(image)


# --- the base view -----------------------------------------------------------------------------


class ServerAPIView(ComputeAPIView):
    """Finds servers (another project's is a 404) and checks the per-server policy."""

    @staticmethod
    def target(instance) -> dict:
        return {"project_id": instance.project_id, "user_id": instance.user_id}

    def server(self, server_id, rule: str | None = None):
        instance = instance_service.get_instance(self.ctx, server_id)
        if rule is not None:
            enforce(self.ctx, rule, self.target(instance))
        return instance

    def builder(self, instances=()) -> ServerViewBuilder:
        return ServerViewBuilder(self.request, self.ctx, instances)

    def show(self, instance) -> dict:
        return {"server": self.with_server_groups(self.builder([instance]).detail(instance), instance)}

    def show_brief(self, instance) -> dict:
        """What update and rebuild answer (no extension attributes below 2.75)."""
        return {"server": self.with_server_groups(self.builder([instance]).brief(instance), instance)}

    def with_server_groups(self, body: dict, instance) -> dict:
        """2.71: one server's answer (show, update, rebuild; not lists) names its server group."""
        if api_version(self.request) >= SERVER_GROUPS_VERSION:
            group = server_group_service.group_of(instance.uuid)
            body["server_groups"] = [str(group.uuid)] if group is not None else []
        return body


# --- listing -----------------------------------------------------------------------------------


def _strict_bool(value: str, message: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in TRUE_STRINGS | FALSE_STRINGS:
        raise BadRequest(message)
    return lowered in TRUE_STRINGS


def _status_filter(statuses) -> tuple[Q | None, set]:
    """(Q over vm_state/task_state, the vm_states) for ?status= (several are OR-ed)."""
    query, vm_all = None, set()
    for status in statuses:
        vm_states, task_states = states.states_for_status(status)
        if not vm_states:
            continue
        vm_all |= set(vm_states)
        clause = Q(vm_state__in=vm_states)
        if task_states is not None:
            named = [t for t in task_states if t is not None]
            task_q = Q(task_state__in=named)
            if None in task_states:
                task_q |= Q(task_state__isnull=True)
            clause &= task_q
        query = clause if query is None else query | clause
    return query, vm_all


def check_list_params(params, version) -> None:
    """2.75: no query parameter outside Nova's list schema, no sort key it only ignored (400)."""
    if version < STRICT_QUERY_VERSION:
        return
    unknown = sorted(key for key in params if key not in LIST_PARAMS and not key.startswith("_"))
    if unknown:
        raise BadRequest(f"Invalid input for query parameters: additional properties are not allowed "
                         f"({', '.join(unknown)}).")
    refused = sorted(set(params.getlist("sort_key")) & SORT_KEYS_REFUSED_2_75)
    if refused:
        raise BadRequest(f"Invalid input for query parameters sort_key: {refused[0]!r} is not a valid sort key.")


def _sort_params(params, is_admin: bool) -> list[tuple[str, str]]:
    """[(field, asc|desc)] as Nova's get_sort_params + process_sort_params: created_at desc by
    default, a missing direction is the first one given, and created_at, id always close the list."""
    keys = [k.strip() for k in params.getlist("sort_key")] or ["created_at"]
    dirs = [d.strip() for d in params.getlist("sort_dir")] or ["desc"]
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise BadRequest("Unknown sort direction, must be 'desc' or 'asc'")
    if len(dirs) > len(keys):
        raise BadRequest("Sort direction size exceeds sort key size")
    default_dir = dirs[0]
    result = []
    for index, key in enumerate(keys):
        if key not in SORT_KEYS:
            raise BadRequest(f"Invalid sort_key {key}")
        if key in ADMIN_SORT_KEYS and not is_admin:
            continue
        field = SORT_KEYS[key]
        if field not in (f for f, _ in result):
            result.append((field, dirs[index] if index < len(dirs) else default_dir))
    for field in ("created_at", "id"):
        if field not in (f for f, _ in result):
            result.append((field, default_dir))
    return result


def _ordering(sort):
    return [F(field).asc(nulls_last=True) if d == "asc" else F(field).desc(nulls_last=True) for field, d in sort]


def _after_marker(marker, sort) -> Q:
    """The rows after `marker` in `sort` order (nulls last in both directions)."""
    after, equal_so_far = Q(pk__in=[]), Q()
    for field, direction in sort:
        value = getattr(marker, field)
        if value is None:
            strictly, equal = Q(pk__in=[]), Q(**{f"{field}__isnull": True})
        else:
            op = "gt" if direction == "asc" else "lt"
            strictly = Q(**{f"{field}__{op}": value}) | Q(**{f"{field}__isnull": True})
            equal = Q(**{field: value})
        after |= equal_so_far & strictly
        equal_so_far &= equal
    return after


def server_queryset(ctx, params, detail: bool, version=(2, 1)):
    """The servers a list request asks for (None: nothing can match); unordered. `ip6` is an
    admin filter, everyone's from microversion 2.5 (other users' unknown filters are ignored)."""
    is_admin = ctx.is_admin
    all_tenants = False
    if "all_tenants" in params:
        raw = params.get("all_tenants")
        all_tenants = raw == "" or _strict_bool(raw, f"Invalid all_tenants value: {raw}")
    qs = Instance.all_objects.all()
    if all_tenants:
        enforce(ctx, f"compute:servers:{'detail' if detail else 'index'}:get_all_tenants")
        project = params.get("project_id") or params.get("tenant_id")
        if project:
            qs = qs.filter(project_id=project)
    elif ctx.project_id is not None:
        qs = qs.filter(project_id=ctx.project_id)
    else:
        qs = qs.filter(user_id=ctx.user_id)

    deleted = None
    if is_admin and "deleted" in params:
        deleted = params["deleted"].strip().lower() in TRUE_STRINGS  # Nova: invalid -> False
    statuses = [s for s in params.getlist("status") if s]
    if statuses:
        status_q, vm_states = _status_filter(statuses)
        if status_q is None:
            return None  # an unknown status matches nothing (Nova 2.1)
        if vm_states == {states.DELETED}:
            if not is_admin:
                raise Forbidden("Only administrators may list deleted instances")
            deleted = True
        qs = qs.filter(status_q)
    qs, changed = changes_filter(qs, params, version)
    if deleted is None:
        if not changed:
            qs = qs.filter(deleted_at__isnull=True)
    elif deleted:
        qs = qs.filter(Q(deleted_at__isnull=False) | Q(vm_state=states.SOFT_DELETED))
    else:
        qs = qs.filter(deleted_at__isnull=True)

    if params.get("image"):
        qs = qs.filter(image_ref=last_segment(params["image"]))
    if params.get("flavor"):
        qs = qs.filter(flavorid=last_segment(params["flavor"]))
    if params.get("reservation_id"):
        qs = qs.filter(reservation_id=params["reservation_id"])
    if is_admin and params.get("host"):
        qs = qs.filter(host=params["host"])
    if is_admin and params.get("user_id"):
        qs = qs.filter(user_id=params["user_id"])
    if version >= LOCKED_FILTER_VERSION and "locked" in params:
        qs = qs.filter(locked=_strict_bool(params["locked"], f"Unrecognized value '{params['locked']}' for locked."))
    # regular expressions last, over what the other filters left
    ip_filters = [compile_regex(params["ip"], "ip")] if params.get("ip") else []
    if params.get("ip6") and (is_admin or version >= (2, 5)):
        ip_filters.append(compile_regex(params["ip6"], "ip6"))
    for rx in ip_filters:
        rows = FixedIP.objects.filter(instance_uuid__in=qs.values("uuid")).values_list("instance_uuid", "address")
        qs = qs.filter(uuid__in={uuid for uuid, address in rows if rx.search(address)})
    if params.get("name"):
        rx = compile_regex(params["name"], "name")
        qs = qs.filter(pk__in=[pk for pk, name in qs.values_list("pk", "display_name") if rx.search(name)])
    return qs


def _marker_row(marker: str, scope):
    """The marker server (deleted ones too: a page may end on one) within the caller's reach."""
    try:
        row = scope.filter(uuid=uuid_lib.UUID(marker)).first()
    except ValueError:
        row = None
    if row is None:
        raise BadRequest(f"marker [{marker}] not found")
    return row


class ServerCollection(ServerAPIView):
    detail = False

    def list_servers(self, request):
        ctx, params = self.ctx, request.query_params
        enforce(ctx, f"compute:servers:{'detail' if self.detail else 'index'}", {"project_id": ctx.project_id})
        limit = MAX_LIMIT
        if "limit" in params:
            try:
                limit = int(params["limit"])
            except ValueError:
                raise BadRequest("limit param must be an integer") from None
            if limit < 0:
                raise BadRequest("limit param must be positive")
            limit = min(limit, MAX_LIMIT)
        check_list_params(params, api_version(request))
        sort = _sort_params(params, ctx.is_admin)
        qs = server_queryset(ctx, params, self.detail, api_version(request))
        page, more = [], False
        if qs is not None:
            marker = params.get("marker")
            if marker:
                scope = Instance.all_objects.all() if ctx.is_admin else Instance.all_objects.filter(
                    project_id=ctx.project_id)
                qs = qs.filter(_after_marker(_marker_row(marker, scope), sort))
            if limit:
                page = list(qs.order_by(*_ordering(sort)).defer(*LIST_DEFERRED)[: limit + 1])
                more, page = len(page) > limit, page[:limit]
        builder = self.builder(page if self.detail else ())
        render = builder.detail if self.detail else builder.summary
        body = {"servers": [render(instance) for instance in page]}
        if more:
            query = params.copy()
            query["marker"] = str(page[-1].uuid)
            path = "servers/detail" if self.detail else "servers"
            body["servers_links"] = [
                {"rel": "next", "href": f"{compute_base(request)}/v2.1/{path}?{query.urlencode()}"}
            ]
        return Response(body)


# --- create ------------------------------------------------------------------------------------


def _parse_networks(value):
    if value is None or value in ("auto", "none"):
        return value
    if not isinstance(value, list):
        raise BadRequest("Invalid input for field/attribute networks: must be 'auto', 'none' or a list.")
    for entry in value:
        check_object(entry, "networks", NETWORK_FIELDS)
        for key in NETWORK_FIELDS & set(entry):
            if entry[key] is not None and not isinstance(entry[key], str):
                raise BadRequest(f"Invalid input for field/attribute {key}: must be a string.")
    return value


def _parse_security_groups(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("Invalid input for field/attribute security_groups: must be a list.")
    names = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - {"name"}:
            raise BadRequest("Invalid input for field/attribute security_groups: entries are {\"name\": ...}.")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise BadRequest("Invalid input for field/attribute name: a security group name is required.")
        if name not in names:
            names.append(name)
    return names


def _optional_string(data, key, max_length=255):
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > max_length):
        raise BadRequest(
            f"Invalid input for field/attribute {key}: must be a string of at most {max_length} characters.")
    return value


def _flavor(ctx, flavor_ref):
    if isinstance(flavor_ref, bool) or not isinstance(flavor_ref, (str, int)) or flavor_ref == "":
        raise BadRequest("Invalid input for field/attribute flavorRef: must be a string or an integer.")
    flavor_id = last_segment(flavor_ref)
    try:
        return flavor_service.get_flavor(flavor_id, ctx.project_id, ctx.is_admin)
    except ComputeNotFound:
        raise BadRequest(f"Flavor {flavor_id} could not be found.") from None


def _boot_source(ctx, server, version=(2, 1)) -> tuple[str, dict | None]:
    """(imageRef, boot volume request or None), checked against block_device_mapping_v2. One
    mapping is supported, the root disk (boot_index 0): the image's local disk (what
    `openstack server create --image` sends), a new volume made from an image (source_type
    image, destination_type volume, volume_size), or an existing volume (source_type volume)."""
    image_ref = server.get("imageRef")
    if image_ref is not None and not isinstance(image_ref, str):
        raise BadRequest("Invalid input for field/attribute imageRef: must be a string.")
    mappings = server.get("block_device_mapping_v2") or []
    if not isinstance(mappings, list):
        raise BadRequest("Invalid input for field/attribute block_device_mapping_v2: must be a list.")
    boot_volume = None
    for mapping in mappings:
        check_object(mapping, "block_device_mapping_v2")
        volume_type = _volume_type(ctx, mapping, version)
        if str(mapping.get("boot_index")) != "0" or boot_volume is not None:
            raise BadRequest("block_device_mapping_v2 is not supported by this cloud beyond the root disk "
                             "(boot_index 0): attach further volumes once the server is ACTIVE.")
        source, destination = mapping.get("source_type"), mapping.get("destination_type", "local")
        uuid = mapping.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise BadRequest("Invalid input for field/attribute block_device_mapping_v2: 'uuid' is required "
                             "for the root disk.")
        if source == "image" and destination == "local":
            if image_ref and last_segment(image_ref) != uuid:
                raise BadRequest("The image of block_device_mapping_v2 is not the imageRef.")
            image_ref = image_ref or uuid
            boot_volume = {}
        elif destination == "volume" and source in ("image", "volume"):
            boot_volume = _boot_volume(mapping, source, uuid, image_ref)
            if volume_type is not None:
                boot_volume["volume_type"] = volume_type
            image_ref = uuid if source == "image" else ""
        else:
            raise BadRequest("Block Device Mapping is Invalid: the root disk is an image (destination_type local "
                             "or volume) or a volume (source_type volume, destination_type volume).")
    if boot_volume is None and not image_ref:
        raise BadRequest("Missing imageRef attribute")
    return image_ref, boot_volume or None


def _volume_type(ctx, mapping, version) -> str | None:
    """2.67: the type of the volume a mapping makes from an image (below 2.67 an unknown property,
    400); a type that does not exist, or one on any other mapping, is a 400 (as Nova)."""
    if "volume_type" not in mapping:
        return None
    if version < VOLUME_TYPE_VERSION:
        raise BadRequest("Invalid input for field/attribute block_device_mapping_v2: additional properties are "
                         "not allowed (volume_type).")
    name = mapping["volume_type"]
    if name is None:
        return None
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise BadRequest("Invalid input for field/attribute volume_type: must be a string of 1 to 255 characters.")
    if mapping.get("source_type") != "image" or mapping.get("destination_type") != "volume":
        raise BadRequest("Specifying a volume_type is only supported for a volume made from an image "
                         "(source_type image, destination_type volume).")
    try:
        volume_type_service.get_type(ctx, name)
    except ComputeNotFound:
        raise BadRequest(f"Volume type {name} could not be found.") from None
    return name


def _boot_volume(mapping, source: str, uuid: str, image_ref) -> dict:
    if image_ref and (source == "volume" or last_segment(image_ref) != uuid):
        raise BadRequest("Block Device Mapping is Invalid: imageRef must be empty (or the mapping's image) "
                         "when the server boots from a volume.")
    delete = mapping.get("delete_on_termination", False)
    request = {"source": source, "uuid": uuid,
               "delete_on_termination": parse_bool(delete, "delete_on_termination")}
    if source == "image":
        size = mapping.get("volume_size")
        if size in (None, "", 0, "0"):
            raise BadRequest("Block Device Mapping is Invalid: Images with destination_type 'volume' need to have "
                             "a non-zero size specified.")
        request["volume_size"] = parse_int(size, "volume_size", 1)
    return request


def create_fields(version) -> set:
    """The keys of a create's `server` at `version`: description from 2.19, no personality from
    2.57, trusted_image_certificates from 2.63, host and hypervisor_hostname from 2.74."""
    allowed = set(CREATE_FIELDS)
    if version >= DESCRIPTION_VERSION:
        allowed.add("description")
    if version >= PERSONALITY_REMOVED_VERSION:
        allowed.discard("personality")
    if version >= TRUSTED_CERTS_VERSION:
        allowed.add("trusted_image_certificates")
    if version >= REQUESTED_DESTINATION_VERSION:
        allowed |= {"host", "hypervisor_hostname"}
    return allowed


def _requested_host(ctx, server) -> str | None:
    """2.74: `host` and/or `hypervisor_hostname` (admins: compute:servers:create:requested_destination),
    checked to exist (400)."""
    host, node = _optional_string(server, "host"), _optional_string(server, "hypervisor_hostname")
    if host is None and node is None:
        return None
    enforce(ctx, "compute:servers:create:requested_destination", {"project_id": ctx.project_id})
    for key, value in (("host", host), ("hypervisor_hostname", node)):
        if value is not None and not value.strip():
            raise BadRequest(f"Invalid input for field/attribute {key}: must not be empty.")
    return host_service.requested_destination(host, node)


def parse_create(ctx, data, version=(2, 1)) -> tuple[dict, bool]:
    """The create_servers keyword arguments from a POST /servers body, and return_reservation_id."""
    if not isinstance(data, dict) or "server" not in data:
        raise BadRequest("Invalid input: 'server' is a required property.")
    extra = sorted(set(data) - {"server", *HINT_KEYS})
    if extra:
        raise BadRequest(f"Invalid input: additional properties are not allowed ({', '.join(extra)}).")
    server = check_object(data["server"], "server", create_fields(version))
    for key in ("name", "flavorRef"):
        if key not in server:
            raise BadRequest(f"Invalid input for field/attribute server: '{key}' is a required property.")
    for key in ("personality", "block_device_mapping"):
        if server.get(key):
            raise BadRequest(f"{key} is not supported by this cloud.")
    if not isinstance(server["name"], str):
        raise BadRequest("Invalid input for field/attribute name: must be a string.")
    if "OS-DCF:diskConfig" in server:
        disk_config(server["OS-DCF:diskConfig"])
    _optional_string(server, "adminPass")
    hints = next((data[key] for key in HINT_KEYS if key in data), None)
    if hints is not None and not isinstance(hints, dict):
        raise BadRequest("Invalid input for field/attribute scheduler_hints: must be an object.")
    metadata = server.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("Invalid input for field/attribute metadata: must be an object.")
    config_drive = server.get("config_drive")
    image_ref, boot_volume = _boot_source(ctx, server, version)
    min_count = parse_int(server.get("min_count", 1), "min_count", 1)
    max_count = parse_int(server.get("max_count", min_count), "max_count", 1)
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    kwargs = {
        "name": server["name"],
        "networks": _parse_networks(server.get("networks")),
        "key_name": _optional_string(server, "key_name"),
        "metadata": metadata,
        "user_data": _optional_string(server, "user_data", max_length=65535),
        "availability_zone": _optional_string(server, "availability_zone"),
        "min_count": min_count,
        "max_count": max_count,
        "scheduler_hints": hints,
        "security_groups": _parse_security_groups(server.get("security_groups")),
        "access_ip_v4": access_ip(server.get("accessIPv4"), "accessIPv4", 4),
        "access_ip_v6": access_ip(server.get("accessIPv6"), "accessIPv6", 6),
        "config_drive": False if config_drive in (None, "") else parse_bool(config_drive, "config_drive"),
        "auto_disk_config": disk_config(server["OS-DCF:diskConfig"]) if "OS-DCF:diskConfig" in server else None,
    }
    if version >= DESCRIPTION_VERSION:  # below 2.19 the description is the name (as Nova)
        kwargs["description"] = server.get("description")
    if version >= REQUESTED_DESTINATION_VERSION:
        kwargs["requested_host"] = _requested_host(ctx, server)
    if server.get("trusted_image_certificates") is not None:
        kwargs["trusted_certs"] = server["trusted_image_certificates"]
    kwargs["flavor"] = _flavor(ctx, server["flavorRef"])
    if boot_volume and boot_volume["source"] == "volume":
        kwargs["image"] = None  # the volume's image (if it was made from one): operations.create_servers
    else:
        kwargs["image"] = find_image(ctx, image_ref)
    kwargs["boot_volume"] = boot_volume
    return_reservation_id = parse_bool(server.get("return_reservation_id", False), "return_reservation_id")
    return kwargs, return_reservation_id


class ServerListView(ServerCollection):
    def get(self, request):
        return self.list_servers(request)

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:servers:create", {"project_id": ctx.project_id, "user_id": ctx.user_id})
        kwargs, return_reservation_id = parse_create(ctx, request.data, api_version(request))
        # Nova 2.1 answers the password asked for, or one it made up; this cloud keeps no copy of it
        # (no hypervisor agent sets it in the guest; key pairs and user data are how guests get in)
        admin_pass = request.data["server"].get("adminPass")
        if admin_pass is None:
            admin_pass = generate_password()
        created = operations.create_servers(ctx, **kwargs)
        first = created[0]
        if return_reservation_id:
            return Response({"reservation_id": first.reservation_id}, status=202)
        server_links = self.builder().links(first)
        body = {
            "server": {
                "id": str(first.uuid),
                "links": server_links,
                "OS-DCF:diskConfig": "AUTO" if first.auto_disk_config else "MANUAL",
                "security_groups": security_groups_body(kwargs["security_groups"] or ["default"]),
                "adminPass": admin_pass,
            }
        }
        return Response(body, status=202, headers={"Location": server_links[0]["href"]})


class ServerDetailListView(ServerCollection):
    detail = True

    def get(self, request):
        return self.list_servers(request)


# --- one server --------------------------------------------------------------------------------


class ServerView(ServerAPIView):
    def get(self, request, server_id):
        return Response(self.show(self.server(server_id, "compute:servers:show")))

    def put(self, request, server_id):
        instance = self.server(server_id, "compute:servers:update")
        with_description = api_version(request) >= DESCRIPTION_VERSION
        data = self.body("server", UPDATE_FIELDS | ({"description"} if with_description else set()))
        changes = {}
        if "description" in data:  # null removes it
            changes["display_description"] = instance_service.validate_description(data["description"])
        if "OS-DCF:diskConfig" in data:
            changes["auto_disk_config"] = disk_config(data["OS-DCF:diskConfig"])
        for field, key, version in (("access_ip_v4", "accessIPv4", 4), ("access_ip_v6", "accessIPv6", 6)):
            if key in data:
                changes[field] = access_ip(data[key], key, version)
        if "name" in data:
            operations.rename_server(self.ctx, instance, data["name"])
        if changes:
            states.check_allowed(instance, "update", is_admin=self.ctx.is_admin)
            instance_service.update_state(instance, **changes)
        return Response(self.show_brief(instance))

    def delete(self, request, server_id):
        instance = self.server(server_id, "compute:servers:delete")
        operations.delete_server(self.ctx, instance)
        return Response(status=204)


class ServerIPsView(ServerAPIView):
    def get(self, request, server_id):
        instance = self.server(server_id, "compute:ips:index")
        return Response({"addresses": self.builder([instance]).addresses(instance)})


class ServerIPView(ServerAPIView):
    def get(self, request, server_id, network_label):
        instance = self.server(server_id, "compute:ips:show")
        addresses = self.builder([instance]).addresses(instance)
        if network_label not in addresses:
            raise NotFound("Instance is not a member of specified network")
        return Response({network_label: addresses[network_label]})
