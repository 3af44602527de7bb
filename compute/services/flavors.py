"""Flavors: the seed defaults, lookups that respect private flavors, create/delete,
extra specs and the access list of private flavors."""
import re
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from ..models import Flavor, FlavorAccess, FlavorExtraSpec
from . import instances
from cloudproj.exceptions import Conflict, Invalid, NotFound
from identity.models import Project

MAX_INT = 0x7FFFFFFF
FLAVORID_RE = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )\Z")
EXTRA_SPEC_KEY_RE = re.compile(r"^[a-zA-Z0-9\-_:. ]{1,255}\Z")

# The seeds' five defaults: (name, memory_mb, vcpus, root_gb, flavorid)
DEFAULT_FLAVORS = [
    ("m1.tiny", 512, 1, 0, "1"),
    ("m1.small", 2048, 1, 20, "2"),
    ("m1.medium", 4096, 2, 40, "3"),
    ("m1.large", 8192, 4, 80, "4"),
    ("m1.xlarge", 16384, 8, 160, "5"),
]


def ensure_default_flavors(flavor_model=Flavor) -> list:
    """Create any missing default flavor (by flavorid); existing rows are left alone. Also run
    by a migration with the historical model (a plain manager): hence the explicit filter."""
    result = []
    active = flavor_model._base_manager.filter(deleted_at__isnull=True)
    for name, memory_mb, vcpus, root_gb, flavorid in DEFAULT_FLAVORS:
        flavor = active.filter(flavorid=flavorid).first()
        if flavor is None and not active.filter(name=name).exists():
            flavor = flavor_model.objects.create(
                flavorid=flavorid, name=name, memory_mb=memory_mb, vcpus=vcpus, root_gb=root_gb
            )
        if flavor is not None:
            result.append(flavor)
    return result


# --- lookups ---------------------------------------------------------------------------------


def visible_flavors(project_id=None, is_admin=False, is_public=True):
    """Active flavors a caller may list.

    is_public: True = public ones plus private ones the caller's project may use;
    False = private only; None = all. Non-admins always get True and no disabled ones.
    """
    qs = Flavor.objects.all()
    if not is_admin:
        is_public = True
        qs = qs.filter(disabled=False)
    if is_public is None:
        return qs
    if is_public:
        cond = Q(is_public=True)
        if project_id is not None:
            cond |= Q(access__project_id=project_id)
        return qs.filter(cond).distinct()
    qs = qs.filter(is_public=False)
    if not is_admin:
        qs = qs.filter(access__project_id=project_id)
    return qs


def get_flavor(flavorid: str, project_id=None, is_admin=True) -> Flavor:
    """The active flavor `flavorid`; another project's private flavor is reported missing."""
    flavor = Flavor.objects.filter(flavorid=str(flavorid)).first()
    if flavor is None or (not is_admin and not flavor.is_accessible_by(project_id)):
        raise NotFound(f"Flavor {flavorid} could not be found.")
    return flavor


def get_flavor_by_name(name: str) -> Flavor:
    flavor = Flavor.objects.filter(name=name).first()
    if flavor is None:
        raise NotFound(f"Flavor with name {name} could not be found.")
    return flavor


# --- create / delete -------------------------------------------------------------------------


def _check_int(field: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"Invalid input for field/attribute {field}: {value!r} is not an integer.")
    if value < minimum or value > MAX_INT:
        raise Invalid(f"Invalid input for field/attribute {field}: must be between {minimum} and {MAX_INT}.")
    return value


def validate_name(name) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or name != name.strip():
        raise Invalid(
            "Invalid input for field/attribute name: must be 1-255 characters without "
            "leading or trailing whitespace."
        )
    return name


def create_flavor(
    name: str,
    memory_mb: int,
    vcpus: int,
    root_gb: int,
    flavorid: str | None = None,
    ephemeral_gb: int = 0,
    swap: int = 0,
    rxtx_factor: float = 1.0,
    is_public: bool = True,
    description: str | None = None,
) -> Flavor:
    validate_name(name)
    description = validate_description(description)
    _check_int("ram", memory_mb, 1)
    _check_int("vcpus", vcpus, 1)
    _check_int("disk", root_gb, 0)
    _check_int("OS-FLV-EXT-DATA:ephemeral", ephemeral_gb, 0)
    _check_int("swap", swap, 0)
    if isinstance(rxtx_factor, bool) or not isinstance(rxtx_factor, (int, float)) or not 0 < rxtx_factor <= 3.4e38:
        raise Invalid("Invalid input for field/attribute rxtx_factor: must be a number greater than 0.")
    if flavorid is None:
        flavorid = str(uuid.uuid4())
    flavorid = str(flavorid)
    if not 1 <= len(flavorid) <= 255 or not FLAVORID_RE.match(flavorid):
        raise Invalid(
            "Invalid input for field/attribute id: only letters, digits, '.', '_', '-' and inner "
            "spaces are allowed (1-255 characters)."
        )
    active = Flavor.objects.all()
    if active.filter(name=name).exists():
        raise Conflict(f"Flavor with name {name} already exists.")
    if active.filter(flavorid=flavorid).exists():
        raise Conflict(f"Flavor with ID {flavorid} already exists.")
    try:
        with transaction.atomic():
            return Flavor.objects.create(
                flavorid=flavorid,
                name=name,
                memory_mb=memory_mb,
                vcpus=vcpus,
                root_gb=root_gb,
                ephemeral_gb=ephemeral_gb,
                swap=swap,
                rxtx_factor=float(rxtx_factor),
                is_public=bool(is_public),
                description=description,
            )
    except IntegrityError:  # a concurrent create won the race
        raise Conflict(f"Flavor with name {name} or ID {flavorid} already exists.") from None


MAX_DESCRIPTION = 65535  # Nova's flavor description (a TEXT column), compute API 2.55


def validate_description(description) -> str | None:
    return instances.validate_description(description, MAX_DESCRIPTION)


def set_description(flavor: Flavor, description) -> Flavor:
    """PUT /flavors/{id} (2.55): the only thing about a flavor that changes; None removes it."""
    flavor.description = validate_description(description)
    flavor.save(update_fields=["description", "updated_at"])
    return flavor


def delete_flavor(flavor: Flavor, purge: bool = False) -> None:
    """Mark inactive (instances keep their own copy), or with purge remove the row."""
    if purge:
        flavor.delete()
        return
    flavor.soft_delete()


def purge_flavor_by_name(name: str) -> Flavor:
    """Purge a flavor by name, active or already marked deleted."""
    flavor = Flavor.all_objects.filter(name=name).order_by(F("deleted_at").asc(nulls_first=True)).first()
    if flavor is None:
        raise NotFound(f"Flavor with name {name} could not be found.")
    flavor.delete()
    return flavor


# --- extra specs -------------------------------------------------------------------------------


def extra_specs(flavor: Flavor) -> dict:
    return {spec.key: spec.value for spec in flavor.extra_specs.all()}


def _spec_value(key, value) -> str:
    if not isinstance(key, str) or not EXTRA_SPEC_KEY_RE.match(key):
        raise Invalid(f"Invalid extra spec key {key!r}: use 1-255 letters, digits, '-', '_', ':', '.' or spaces.")
    if isinstance(value, bool):
        value = str(value)
    if not isinstance(value, (str, int, float)):
        raise Invalid(f"Invalid value for extra spec {key}: must be a string or a number.")
    value = str(value)
    if len(value) > 255:
        raise Invalid(f"Invalid value for extra spec {key}: at most 255 characters.")
    return value


def set_extra_specs(flavor: Flavor, specs: dict) -> dict:
    cleaned = {key: _spec_value(key, value) for key, value in specs.items()}
    with transaction.atomic():
        for key, value in cleaned.items():
            FlavorExtraSpec.objects.update_or_create(flavor=flavor, key=key, defaults={"value": value})
    return cleaned


def get_extra_spec(flavor: Flavor, key: str) -> str:
    spec = flavor.extra_specs.filter(key=key).first()
    if spec is None:
        raise NotFound(f"Flavor {flavor.flavorid} has no extra specs with key {key}.")
    return spec.value


def delete_extra_spec(flavor: Flavor, key: str) -> None:
    deleted, _ = flavor.extra_specs.filter(key=key).delete()
    if not deleted:
        raise NotFound(f"Flavor {flavor.flavorid} has no extra specs with key {key}.")


# --- access list of private flavors -------------------------------------------------------------


def access_list(flavor: Flavor) -> list[str]:
    if flavor.is_public:
        raise NotFound("Access list not available for public flavors.")
    return list(flavor.access.values_list("project_id", flat=True))


def _check_project(project_id) -> str:
    if not isinstance(project_id, str) or not 1 <= len(project_id) <= 255:
        raise Invalid("Invalid input for field/attribute tenant: must be a project id string.")
    if not Project.objects.filter(id=project_id).exists():
        raise Invalid(f"Project ID {project_id} is not a valid project.")
    return project_id


def add_access(flavor: Flavor, project_id: str) -> list[str]:
    _check_project(project_id)
    if flavor.is_public:
        raise Conflict("Can not add access to a public flavor.")
    try:
        with transaction.atomic():
            FlavorAccess.objects.create(flavor=flavor, project_id=project_id)
    except IntegrityError:
        raise Conflict(
            f"Flavor access already exists for flavor {flavor.flavorid} and project {project_id} combination."
        ) from None
    return access_list(flavor)


def remove_access(flavor: Flavor, project_id: str) -> list[str]:
    if not isinstance(project_id, str) or not project_id:
        raise Invalid("Invalid input for field/attribute tenant: must be a project id string.")
    deleted, _ = flavor.access.filter(project_id=project_id).delete()
    if not deleted:
        raise NotFound(f"Flavor access not found for {flavor.flavorid} / {project_id} combination.")
    return access_list(flavor)
