"""Volume types: admins create, update and delete them and their extra specs; everyone sees
the public ones. `__DEFAULT__` is the default type (as Cinder's), made again if a test or an
operator flushed it; it cannot be deleted, nor can a type live volumes still have."""
import re
import uuid as uuid_lib

from django.db import IntegrityError, transaction
from django.db.models import Q

from cloudproj.exceptions import Conflict, Invalid, NotFound

from ..models import DEFAULT_TYPE_NAME, VolumeType, VolumeTypeAccess

MAX_TEXT = 255
SPEC_KEY = re.compile(r"^[\w.:\-/ ]{1,255}$")


def default_type() -> VolumeType:
    vtype, _ = VolumeType.objects.get_or_create(name=DEFAULT_TYPE_NAME,
                                                defaults={"description": "Default Volume Type"})
    return vtype


def _usable(ctx) -> Q:
    """The types a non-admin may see and use: public ones and private ones its project was given."""
    return Q(is_public=True) | Q(project_access__project_id=ctx.project_id or "")


def types_for(ctx, is_public=None):
    """Admins see all types (or filter with is_public), others the public ones and the private
    ones their project has access to."""
    default_type()
    qs = VolumeType.objects.all()
    if not ctx.is_admin:
        return qs.filter(_usable(ctx)).distinct()
    if is_public is not None:
        qs = qs.filter(is_public=is_public)
    return qs


def get_type(ctx, type_id) -> VolumeType:
    """By id (or, as Cinder's clients also do, by name); a private type is missing for non-admins."""
    if type_id == DEFAULT_TYPE_NAME:
        return default_type()
    try:
        vtype = VolumeType.objects.filter(uuid=uuid_lib.UUID(str(type_id))).first()
    except ValueError:
        vtype = VolumeType.objects.filter(name=str(type_id)).first()
    if vtype is None or (not ctx.is_admin and not vtype.is_public
                         and not vtype.project_access.filter(project_id=ctx.project_id or "").exists()):
        raise NotFound(f"Volume type {type_id} could not be found.")
    return vtype


def access_list(vtype: VolumeType) -> list[str]:
    if vtype.is_public:
        raise NotFound("Access list not available for public volume types.")
    return list(vtype.project_access.values_list("project_id", flat=True))


def add_access(vtype: VolumeType, project_id) -> None:
    project_id = _access_project(vtype, project_id)
    try:
        with transaction.atomic():
            VolumeTypeAccess.objects.create(volume_type=vtype, project_id=project_id)
    except IntegrityError:
        raise Conflict(f"Volume type access for {vtype.uuid} / {project_id} combination already exists.") \
            from None


def remove_access(vtype: VolumeType, project_id) -> None:
    project_id = _access_project(vtype, project_id)
    deleted, _ = VolumeTypeAccess.objects.filter(volume_type=vtype, project_id=project_id).delete()
    if not deleted:
        raise NotFound(f"Volume type access not found for {vtype.uuid} / {project_id} combination.")


def _access_project(vtype: VolumeType, project_id) -> str:
    if not isinstance(project_id, str) or not project_id or len(project_id) > 64 or not project_id.isprintable():
        raise Invalid("Invalid input received: project must be a project id.")
    if vtype.is_public:
        raise Conflict("Type access modification is not applicable to public volume type.")
    return project_id


def resolve_for_volume(ctx, ref) -> VolumeType:
    """The type named by a volume create request (name or id; none: the default)."""
    if ref in (None, ""):
        return default_type()
    if not isinstance(ref, str):
        raise Invalid("Invalid input received: volume_type must be a string.")
    try:
        return get_type(ctx, ref)
    except NotFound:
        raise NotFound(f"Volume type with name or id {ref} could not be found.") from None


def _text(value, field: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT or (required and not value.strip()):
        raise Invalid(f"Invalid input received: {field} must be a non-empty string of at most {MAX_TEXT} "
                      f"characters." if required else
                      f"Invalid input received: {field} must be a string of at most {MAX_TEXT} characters.")
    return value.strip() if required else value


def parse_bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "t", "1", "yes", "y", "on"):
        return True
    if text in ("false", "f", "0", "no", "n", "off"):
        return False
    raise Invalid(f"Invalid input received: {field} must be a boolean, got {value!r}.")


def validate_specs(specs) -> dict:
    if not isinstance(specs, dict):
        raise Invalid("Invalid input received: extra_specs must be an object.")
    clean = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not SPEC_KEY.match(key):
            raise Invalid(f"Invalid input received: extra spec key {key!r} is not valid.")
        if isinstance(value, bool):
            value = str(value)
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise Invalid(f"Invalid input received: extra spec {key!r} must be a string of at most "
                          f"{MAX_TEXT} characters.")
        clean[key] = value
    return clean


def create_type(name, description=None, is_public=True, extra_specs=None) -> VolumeType:
    name = _text(name, "name", required=True)
    description = _text(description, "description")
    specs = validate_specs(extra_specs or {})
    try:
        with transaction.atomic():
            return VolumeType.objects.create(name=name, description=description,
                                             is_public=parse_bool(is_public, "is_public"), extra_specs=specs)
    except IntegrityError:
        raise Conflict(f"Volume Type {name} already exists.") from None


def update_type(vtype: VolumeType, name=None, description=None, is_public=None) -> VolumeType:
    if name is None and description is None and is_public is None:
        raise Invalid("Invalid input received: specify a volume type name, description, is_public or a "
                      "combination thereof.")
    if name is not None:
        if vtype.name == DEFAULT_TYPE_NAME and name != DEFAULT_TYPE_NAME:
            raise Invalid("Invalid input received: the default volume type cannot be renamed.")
        vtype.name = _text(name, "name", required=True)
    if description is not None:
        vtype.description = _text(description, "description")
    if is_public is not None:
        vtype.is_public = parse_bool(is_public, "is_public")
    try:
        with transaction.atomic():
            vtype.save()
    except IntegrityError:
        raise Conflict(f"Volume Type {vtype.name} already exists.") from None
    return vtype


def delete_type(vtype: VolumeType) -> None:
    if vtype.name == DEFAULT_TYPE_NAME:
        raise Invalid("Invalid volume type: Default volume type can not be deleted.")
    with transaction.atomic():
        locked = VolumeType.objects.select_for_update().get(pk=vtype.pk)
        if locked.volumes.filter(deleted_at__isnull=True).exists():
            raise Invalid(f"Invalid volume type: Target volume type {vtype.uuid} is still in use.")
        locked.delete()


def set_specs(vtype: VolumeType, specs) -> dict:
    specs = validate_specs(specs)
    with transaction.atomic():
        locked = VolumeType.objects.select_for_update().get(pk=vtype.pk)
        locked.extra_specs = {**(locked.extra_specs or {}), **specs}
        locked.save(update_fields=["extra_specs", "updated_at"])
    return specs


def get_spec(vtype: VolumeType, key: str) -> str:
    if key not in (vtype.extra_specs or {}):
        raise NotFound(f"Volume Type {vtype.uuid} has no extra specs with key {key}.")
    return vtype.extra_specs[key]


def delete_spec(vtype: VolumeType, key: str) -> None:
    with transaction.atomic():
        locked = VolumeType.objects.select_for_update().get(pk=vtype.pk)
        specs = dict(locked.extra_specs or {})
        if key not in specs:
            raise NotFound(f"Volume Type {vtype.uuid} has no extra specs with key {key}.")
        del specs[key]
        locked.extra_specs = specs
        locked.save(update_fields=["extra_specs", "updated_at"])
