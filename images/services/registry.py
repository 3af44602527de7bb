"""Image registry operations (plain Python: no HTTP, no Celery).

    create_image(...)            -> queued image (no data yet)
    upload(image, source)        -> saving -> active (data checked) or killed
    register_image(src, ...)     -> both at once (the seeds' `image register`)
    get_visible / visible_images / delete_image
    update_image(image, ops)     -> a JSON patch (RFC 6902 subset) of fields and properties
    deactivate / reactivate
Members of shared images: images/services/members.py.
"""
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from images.drivers import qemu_img, store
from images.models import CONTAINER_FORMATS, DISK_FORMATS, Image, validate_formats, validate_image_name

# Core fields: never accepted as extra properties.
CORE_FIELDS = {
    "id", "name", "owner", "visibility", "status", "disk_format", "container_format", "size",
    "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "protected",
    "os_hidden", "tags", "created_at", "updated_at", "deleted_at", "deleted", "file", "self",
    "schema", "locations", "direct_url",
}
# disk_format -> the format qemu-img must find in the data
CHECKED_FORMATS = {"raw": "raw", "ami": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi"}
# vmdk subformats that keep everything in the one file (others name extent files on the host)
SINGLE_FILE_VMDK = {"monolithicSparse", "streamOptimized"}
# PATCH may change these core fields (the rest are read-only)
MUTABLE_FIELDS = {"name", "visibility", "protected", "min_disk", "min_ram", "tags", "os_hidden",
                  "disk_format", "container_format"}
# Glance's reserved namespace of property names: the service's own bookkeeping (403 to users).
RESERVED_PREFIX = "os_glance"
# Tags per image (Glance's image_tag_quota default); more is a 413.
TAG_QUOTA = 128
TAG_MAX_LENGTH = 255


class ImageError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ImageNotFound(ImageError):
    pass


class ImageInvalid(ImageError):
    pass


class ImageConflict(ImageError):
    pass


class ImageForbidden(ImageError):
    pass


class ImageTooLarge(ImageError):
    pass


def _validate_properties(properties: dict) -> dict:
    clean = {}
    for key, value in (properties or {}).items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise ImageInvalid(f"Invalid property name {key!r}.")
        if key in CORE_FIELDS:
            raise ImageInvalid(f"Attribute '{key}' is reserved.")
        _check_reserved(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ImageInvalid(f"Property {key} must be a string, not {type(value).__name__}.")
        value = str(value)
        if len(value) > 65535:
            raise ImageInvalid(f"Property {key} is too long.")
        clean[key] = value
    return clean


def _check_reserved(key: str) -> None:
    if key.startswith(RESERVED_PREFIX):
        raise ImageForbidden(f"Attribute '{key}' is reserved.")


def _check_linked(properties: dict) -> None:
    """kernel_id / ramdisk_id: a UUID (Glance's schema pattern). One that names no image is
    accepted as Glance does (a boot then fails on it: not available); one that names an image
    of another format is refused."""
    for key, fmt in (("kernel_id", "aki"), ("ramdisk_id", "ari")):
        value = properties.get(key)
        if value is None:
            continue
        try:
            uuid.UUID(str(value))
        except ValueError:
            raise ImageInvalid(f"{key} {value!r} is not an image id (a UUID).") from None
        image = _parse_and_get(value)
        if image is not None and image.disk_format != fmt:
            raise ImageInvalid(f"{key} {value} is not an {fmt} image.")


def _parse_and_get(image_id) -> Image | None:
    try:
        image_uuid = uuid.UUID(str(image_id))
    except ValueError:
        return None
    return Image.objects.filter(id=image_uuid).first()


def create_image(
    name: str,
    disk_format: str | None,
    container_format: str | None,
    owner=None,
    visibility: str | None = None,
    properties: dict | None = None,
    min_disk: int = 0,
    min_ram: int = 0,
    protected: bool = False,
    image_id=None,
    tags=None,
) -> Image:
    name = name or ""
    try:
        validate_image_name(name)
        if disk_format is not None or container_format is not None:
            validate_formats(disk_format or "", container_format or "")
    except ValidationError as exc:
        raise ImageInvalid(" ".join(exc.messages)) from None
    visibility = Image.SHARED if visibility is None else visibility  # "" is refused, as the schema says
    if visibility not in Image.VISIBILITIES:
        raise ImageInvalid(f"Invalid visibility value: {visibility}")
    min_disk, min_ram = _non_negative(min_disk, "min_disk"), _non_negative(min_ram, "min_ram")
    if not isinstance(protected, bool):
        raise ImageInvalid("protected must be a boolean.")
    properties = _validate_properties(properties or {})
    _check_linked(properties)
    fields = dict(
        name=name, disk_format=disk_format, container_format=container_format, owner=owner,
        visibility=visibility, properties=properties, min_disk=min_disk, min_ram=min_ram,
        protected=protected, status=Image.QUEUED, tags=_validate_tags(tags or []),
    )
    if isinstance(owner, str):  # a project id an admin gave (checked_owner)
        fields["owner_id"] = checked_owner(fields.pop("owner"))
    if image_id is not None:
        try:
            fields["id"] = uuid.UUID(str(image_id))
        except ValueError:
            raise ImageInvalid(f"Invalid image id {image_id!r}.") from None
        if Image.all_objects.filter(id=fields["id"]).exists():
            raise ImageConflict(f"An image with identifier {image_id} already exists.")
    return Image.objects.create(**fields)


def _non_negative(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ImageInvalid(f"{name} must be an integer >= 0.")
    return value


def _validate_tags(tags) -> list:
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= TAG_MAX_LENGTH for t in tags):
        raise ImageInvalid(f"tags must be a list of strings of 1 to {TAG_MAX_LENGTH} characters.")
    unique = list(dict.fromkeys(tags))
    if len(unique) > TAG_QUOTA:
        raise ImageTooLarge(f"Maximum number of tags per image exceeded ({TAG_QUOTA}).")
    return unique


def add_tag(image: Image, tag) -> Image:
    """PUT /v2/images/{id}/tags/{tag}: idempotent; 400 for a bad tag, 413 past the quota."""
    if not isinstance(tag, str) or not 0 < len(tag) <= TAG_MAX_LENGTH:
        raise ImageInvalid(f"A tag is a string of 1 to {TAG_MAX_LENGTH} characters.")
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        if locked.deleted_at is not None:
            raise ImageNotFound(f"No image found with ID {image.id}")
        tags = list(locked.tags or [])
        if tag not in tags:
            locked.tags = _validate_tags(tags + [tag])
            locked.save(update_fields=["tags", "updated_at"])
    return locked


def remove_tag(image: Image, tag: str) -> Image:
    """DELETE /v2/images/{id}/tags/{tag}: 404 when the image has no such tag."""
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        tags = list(locked.tags or [])
        if locked.deleted_at is not None or tag not in tags:
            raise ImageNotFound(f"Tag {tag} not found on image {image.id}.")
        tags.remove(tag)
        locked.tags = tags
        locked.save(update_fields=["tags", "updated_at"])
    return locked


def check_disk_data(path: Path, disk_format: str) -> dict | None:
    """Refuse data whose real format is not `disk_format`, and qcow2 files that point at other
    files (a backing file or external data file is a known way to read the host's files)."""
    expected = CHECKED_FORMATS.get(disk_format)
    if expected is None:
        return None
    try:
        info = qemu_img.info(path)
    except qemu_img.QemuImgError as exc:
        raise ImageInvalid(f"Image data could not be inspected: {exc}") from None
    actual = info.get("format")
    if actual != expected:
        raise ImageInvalid(f"Image data is in format '{actual}', not '{disk_format}'.")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise ImageInvalid("Image data has a backing file: refused.")
    specific = (info.get("format-specific") or {}).get("data") or {}
    if specific.get("data-file"):
        raise ImageInvalid("Image data uses an external data file: refused.")
    if actual == "vmdk" and specific.get("create-type") not in SINGLE_FILE_VMDK:
        raise ImageInvalid(f"vmdk subformat {specific.get('create-type')!r} is refused: only "
                           f"{', '.join(sorted(SINGLE_FILE_VMDK))} (one file, no extents elsewhere).")
    return info


def upload(image: Image, source) -> Image:
    """Store data for a queued image: saving → active, or killed (data removed) when the data
    is refused or the stream breaks. Only a saving image becomes active (a delete or
    deactivation while the data streamed in wins)."""
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        if locked.status != Image.QUEUED:
            raise ImageConflict(f"Image {image.id} has status {locked.status}; data can only be added when queued.")
        if not locked.disk_format or not locked.container_format:
            raise ImageInvalid("Properties disk_format, container_format must be set prior to saving data.")
        locked.status = Image.SAVING
        locked.save(update_fields=["status", "updated_at"])
    try:
        stored = store.write(image.id, source, max_size=settings.IMAGE_SIZE_CAP)
        info = check_disk_data(stored.path, locked.disk_format)
    except BaseException as exc:
        store.delete(image.id)
        Image.all_objects.filter(pk=image.pk, status=Image.SAVING).update(status=Image.KILLED, updated_at=timezone.now())
        if isinstance(exc, store.StoreError):
            raise ImageTooLarge(str(exc)) from None
        raise
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        if locked.status != Image.SAVING:
            store.delete(image.id)
            raise ImageConflict(f"Image {image.id} changed to {locked.status} during the upload; data discarded.")
        locked.size = stored.size
        locked.checksum = stored.md5
        locked.os_hash_algo = "sha256"
        locked.os_hash_value = stored.sha256
        virtual = (info or {}).get("virtual-size")
        locked.virtual_size = virtual or (stored.size if locked.disk_format in CHECKED_FORMATS else None)
        locked.status = Image.ACTIVE
        locked.save()
    return locked


def register_image(
    path_or_stream,
    name: str,
    disk_format: str = "raw",
    container_format: str | None = None,
    owner=None,
    visibility: str = Image.PRIVATE,
    properties: dict | None = None,
    **kwargs,
) -> Image:
    """Create an image and store its data from a path or a stream; returns the active image."""
    if container_format is None:
        container_format = disk_format if disk_format in ("ami", "aki", "ari") else "bare"
    if isinstance(path_or_stream, (str, Path)):
        path = Path(path_or_stream)
        if not path.is_file():
            raise ImageInvalid(f"{path} is not a file.")
        image = create_image(name, disk_format, container_format, owner, visibility, properties, **kwargs)
        with open(path, "rb") as handle:
            return upload(image, handle)
    image = create_image(name, disk_format, container_format, owner, visibility, properties, **kwargs)
    return upload(image, path_or_stream)


def visible_images(project_id: str | None, is_admin: bool = False):
    return Image.objects.visible_to(project_id, is_admin)


def get_visible(image_id, project_id: str | None, is_admin: bool = False) -> Image:
    """The image if this project may see it, else ImageNotFound (existence not disclosed)."""
    try:
        image_uuid = uuid.UUID(str(image_id))
    except ValueError:
        raise ImageNotFound(f"No image found with ID {image_id}") from None
    image = visible_images(project_id, is_admin).filter(id=image_uuid).first()
    if image is None:
        raise ImageNotFound(f"No image found with ID {image_id}")
    return image


def find(name_or_id) -> Image:
    """Operator lookup by id or (unique) name among live images."""
    image = _parse_and_get(name_or_id)
    if image is not None:
        return image
    matches = list(Image.objects.filter(name=name_or_id)[:2])
    if not matches:
        raise ImageNotFound(f"No image with id or name {name_or_id!r}.")
    if len(matches) > 1:
        raise ImageConflict(f"More than one image is named {name_or_id!r}; use the id.")
    return matches[0]


def delete_image(image: Image) -> Image:
    """Soft delete: status deleted, deleted_at set, data removed from the store.
    Hosts keep their cached bases (image cache cleanup never removes a base in use), so
    instances running from the image are not affected."""
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        if locked.deleted_at is not None:
            raise ImageNotFound(f"No image found with ID {image.id}")
        if locked.protected:
            raise ImageForbidden(f"Image {image.id} is protected and cannot be deleted.")
        locked.status = Image.DELETED
        locked.soft_delete(update_fields=("status",))
    store.delete(image.id)
    image.status, image.deleted_at = locked.status, locked.deleted_at
    return image


def reap_stalled_uploads(max_idle: float) -> list:
    """Kill images left `saving` by an upload whose process died: no partial data written
    for `max_idle` seconds (an upload in progress keeps writing its .part file)."""
    now = time.time()
    cutoff = timezone.now() - timedelta(seconds=max_idle)
    killed = []
    for image in Image.objects.filter(status=Image.SAVING, updated_at__lt=cutoff):
        last = store.last_write(image.id)
        if last is not None and now - last < max_idle:
            continue
        if Image.all_objects.filter(pk=image.pk, status=Image.SAVING, updated_at__lt=cutoff).update(
                status=Image.KILLED, updated_at=timezone.now()):
            store.delete_partial(image.id)
            killed.append(image.id)
    return killed


def _set_status(image: Image, allowed: tuple, new: str, verb: str) -> Image:
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        if locked.status == new:
            return locked
        if locked.status not in allowed:
            raise ImageForbidden(f"Not allowed to {verb} image in status '{locked.status}'")
        locked.status = new
        locked.save(update_fields=["status", "updated_at"])
    return locked


def deactivate(image: Image) -> Image:
    """active → deactivated: the data can no longer be downloaded (but by admins) nor booted."""
    return _set_status(image, (Image.ACTIVE,), Image.DEACTIVATED, "deactivate")


def reactivate(image: Image) -> Image:
    return _set_status(image, (Image.DEACTIVATED,), Image.ACTIVE, "reactivate")


# --- PATCH -------------------------------------------------------------------------------------


def _patch_path(path) -> str:
    if not isinstance(path, str) or not path.startswith("/") or len(path) < 2 or "/" in path[1:]:
        raise ImageInvalid(f"Invalid JSON pointer for this resource: '{path}'")
    return path[1:].replace("~1", "/").replace("~0", "~")


def _core_value(image: Image, field: str, value):
    if field == "name":
        if value is not None and not isinstance(value, str):
            raise ImageInvalid("name must be a string.")
        try:
            validate_image_name(value or "")
        except ValidationError as exc:
            raise ImageInvalid(" ".join(exc.messages)) from None
        return value or ""
    if field == "visibility":
        if value not in Image.VISIBILITIES:
            raise ImageInvalid(f"Invalid visibility value: {value}")
        return value
    if field in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise ImageInvalid(f"{field} must be a boolean.")
        return value
    if field in ("min_disk", "min_ram"):
        return _non_negative(value, field)
    if field == "tags":
        return _validate_tags(value)
    if image.status != Image.QUEUED:  # disk_format / container_format
        raise ImageForbidden(f"Attribute {field} can be only replaced for a queued image.")
    if value not in (DISK_FORMATS if field == "disk_format" else CONTAINER_FORMATS):
        raise ImageInvalid(f"Invalid {field} '{value}'.")
    return value


OWNER_MAX_LENGTH = 64  # a project id (identity.models.Project)


def checked_owner(value) -> str:
    if not isinstance(value, str) or not value or len(value) > OWNER_MAX_LENGTH or not value.isprintable():
        raise ImageInvalid(f"Invalid owner: a project id of at most {OWNER_MAX_LENGTH} printable characters.")
    return value


def update_image(image: Image, ops: list, may_set_owner: bool = False) -> Image:
    """Apply JSON patch operations (add / replace / remove) to core fields and properties, in
    one transaction under the row lock; all or nothing. `owner` changes only with
    `may_set_owner` (Glance: admins)."""
    if not isinstance(ops, list):
        raise ImageInvalid("A JSON patch must be a list of operations.")
    with transaction.atomic():
        locked = Image.all_objects.select_for_update().get(pk=image.pk)
        if locked.deleted_at is not None:
            raise ImageNotFound(f"No image found with ID {image.id}")
        properties = dict(locked.properties)
        for op in ops:
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                raise ImageInvalid(f"Unsupported JSON patch operation: {op!r}")
            field = _patch_path(op.get("path"))
            _check_reserved(field)
            if op["op"] != "remove" and "value" not in op:
                raise ImageInvalid(f"Operation {op['op']} on {field} needs a value.")
            if field == "owner" and op["op"] == "replace" and (may_set_owner or op["value"] == locked.owner_id):
                locked.owner_id = checked_owner(op["value"])
            elif field in MUTABLE_FIELDS:
                if op["op"] == "remove":
                    raise ImageForbidden(f"Attribute '{field}' cannot be removed.")
                setattr(locked, field, _core_value(locked, field, op["value"]))
            elif field in CORE_FIELDS:
                raise ImageForbidden(f"Attribute '{field}' is read-only.")
            elif op["op"] == "remove":
                if field not in properties:
                    raise ImageConflict(f"Property {field} does not exist.")
                del properties[field]
            else:
                if op["op"] == "replace" and field not in properties:
                    raise ImageConflict(f"Property {field} does not exist.")
                properties.update(_validate_properties({field: op["value"]}))
        try:
            if locked.disk_format and locked.container_format:
                validate_formats(locked.disk_format or "", locked.container_format or "")
        except ValidationError as exc:
            raise ImageInvalid(" ".join(exc.messages)) from None
        if properties != locked.properties:
            _check_linked({k: v for k, v in properties.items() if locked.properties.get(k) != v})
        locked.properties = properties
        locked.save()
    return locked
