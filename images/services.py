"""Image registry operations (plain Python: no HTTP, no Celery).

    create_image(...)            -> queued image (no data yet)
    upload(image, source)        -> saving -> active (data checked) or killed
    register_image(src, ...)     -> both at once (the seeds' `image register`)
    get_visible / visible_images / delete_image
"""
import uuid
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import qemu_img, store
from .models import Image, validate_formats, validate_image_name

# Core fields: never accepted as extra properties.
CORE_FIELDS = {
    "id", "name", "owner", "visibility", "status", "disk_format", "container_format", "size",
    "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "protected",
    "os_hidden", "tags", "created_at", "updated_at", "deleted_at", "deleted", "file", "self",
    "schema", "locations", "direct_url",
}
CHECKED_FORMATS = {"raw": "raw", "ami": "raw", "qcow2": "qcow2"}  # disk_format -> qemu-img format


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


def _validate_properties(properties: dict) -> dict:
    clean = {}
    for key, value in (properties or {}).items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise ImageInvalid(f"Invalid property name {key!r}.")
        if key in CORE_FIELDS:
            raise ImageInvalid(f"Attribute '{key}' is reserved.")
        if value is None:
            continue
        value = str(value)
        if len(value) > 65535:
            raise ImageInvalid(f"Property {key} is too long.")
        clean[key] = value
    return clean


def _check_linked(properties: dict) -> None:
    for key, fmt in (("kernel_id", "aki"), ("ramdisk_id", "ari")):
        value = properties.get(key)
        if value is None:
            continue
        image = _parse_and_get(value)
        if image is None or image.disk_format != fmt:
            raise ImageInvalid(f"{key} {value} is not an existing {fmt} image.")


def _parse_and_get(image_id) -> Image | None:
    try:
        image_uuid = uuid.UUID(str(image_id))
    except ValueError:
        return None
    return Image.objects.alive().filter(id=image_uuid).first()


def create_image(
    name: str,
    disk_format: str,
    container_format: str,
    owner=None,
    visibility: str | None = None,
    properties: dict | None = None,
    min_disk: int = 0,
    min_ram: int = 0,
    protected: bool = False,
    image_id=None,
) -> Image:
    name = name or ""
    try:
        validate_image_name(name)
        validate_formats(disk_format, container_format)
    except ValidationError as exc:
        raise ImageInvalid(" ".join(exc.messages)) from None
    visibility = visibility or Image.SHARED
    if visibility not in Image.VISIBILITIES:
        raise ImageInvalid(f"Invalid visibility value: {visibility}")
    if min_disk < 0 or min_ram < 0:
        raise ImageInvalid("min_disk and min_ram must be >= 0.")
    properties = _validate_properties(properties or {})
    _check_linked(properties)
    fields = dict(
        name=name, disk_format=disk_format, container_format=container_format, owner=owner,
        visibility=visibility, properties=properties, min_disk=min_disk, min_ram=min_ram,
        protected=protected, status=Image.QUEUED,
    )
    if image_id is not None:
        fields["id"] = uuid.UUID(str(image_id))
    return Image.objects.create(**fields)


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
    return info


def upload(image: Image, source) -> Image:
    """Store data for a queued image: saving → active, or killed (data removed) on failure."""
    with transaction.atomic():
        locked = Image.objects.select_for_update().get(pk=image.pk)
        if locked.status != Image.QUEUED:
            raise ImageConflict(f"Image {image.id} has status {locked.status}; data can only be added when queued.")
        locked.status = Image.SAVING
        locked.save(update_fields=["status", "updated_at"])
    try:
        stored = store.write(image.id, source)
        info = check_disk_data(stored.path, locked.disk_format)
    except BaseException:
        store.delete(image.id)
        Image.objects.filter(pk=image.pk).update(status=Image.KILLED, updated_at=timezone.now())
        raise
    locked.size = stored.size
    locked.checksum = stored.md5
    locked.os_hash_algo = "sha256"
    locked.os_hash_value = stored.sha256
    locked.virtual_size = (info or {}).get("virtual-size") or (stored.size if locked.disk_format in CHECKED_FORMATS else None)
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
    matches = list(Image.objects.alive().filter(name=name_or_id)[:2])
    if not matches:
        raise ImageNotFound(f"No image with id or name {name_or_id!r}.")
    if len(matches) > 1:
        raise ImageConflict(f"More than one image is named {name_or_id!r}; use the id.")
    return matches[0]


def delete_image(image: Image) -> Image:
    """Soft delete: status deleted, deleted_at set, data removed from the store.
    Hosts keep their cached bases, so running instances are not affected."""
    if image.protected:
        raise ImageConflict(f"Image {image.id} is protected and cannot be deleted.")
    if image.deleted_at is not None:
        raise ImageNotFound(f"No image found with ID {image.id}")
    image.status = Image.DELETED
    image.deleted_at = timezone.now()
    image.save(update_fields=["status", "deleted_at", "updated_at"])
    store.delete(image.id)
    return image
