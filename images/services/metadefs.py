"""Metadata definitions catalogue (Glance's metadefs; plain Python, no HTTP).

Namespaces (public or private to their owner project; protected ones cannot be deleted)
hold properties (JSON-schema definitions), objects (groups of properties), tags, and
associations with resource types (OS::Glance::Image, OS::Nova::Flavor, ...). Everything is
validated here; the API maps the errors (registry's ImageError family) to 400/403/404/409.
"""
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from images.models import (
    MetadefNamespace, MetadefObject, MetadefProperty, MetadefResourceType, MetadefResourceTypeAssociation,
    MetadefTag,
)
from images.services.registry import ImageConflict, ImageForbidden, ImageInvalid, ImageNotFound

NAME_MAX = 80
TAG_MAX = 255
# A namespace, object or resource type name ends up in URLs: no slashes, no control characters.
NAME_RE = re.compile(r"^[^/\x00-\x1f\x7f]+\Z")
PROPERTY_TYPES = ("array", "boolean", "integer", "number", "object", "string")
# Keys a property definition may carry (Glance's metadef property type), with their JSON types.
PROPERTY_KEYS: dict[str, tuple[type, ...]] = {
    "title": (str,), "type": (str,), "description": (str,), "default": (str, int, float, bool, list, dict),
    "minimum": (int, float), "maximum": (int, float), "enum": (list,), "pattern": (str,),
    "minLength": (int,), "maxLength": (int,), "confidential": (bool,), "items": (dict,),
    "uniqueItems": (bool,), "minItems": (int,), "maxItems": (int,), "additionalItems": (bool,),
    "readonly": (bool,), "operators": (list,),
}
SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "id")


# --- validation --------------------------------------------------------------------------------


def _name(value, what: str, maximum: int = NAME_MAX) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > maximum or not NAME_RE.match(value):
        raise ImageInvalid(f"Invalid {what} {value!r}: a string of 1 to {maximum} characters, without '/'.")
    return value


def _text(value, what: str, maximum: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > maximum:
        raise ImageInvalid(f"{what} must be a string of at most {maximum} characters.")
    return value


def _bool(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise ImageInvalid(f"{what} must be a boolean.")
    return value


def _object(body, what: str) -> dict:
    if not isinstance(body, dict):
        raise ImageInvalid(f"The {what} must be a JSON object.")
    return body


def _unknown(body: dict, allowed: set, what: str) -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        raise ImageInvalid(f"Additional properties are not allowed in a {what} ({extra[0]!r} was unexpected).")


def property_schema(body, name_required: bool = True) -> tuple[str | None, dict]:
    """(name, definition) of a property definition; title and type are required."""
    body = _object(body, "property")
    _unknown(body, set(PROPERTY_KEYS) | {"name"}, "property")
    name = body.get("name")
    if name_required or name is not None:
        name = _name(name, "property name", 255)
    schema: dict[str, Any] = {}
    for key, types in PROPERTY_KEYS.items():
        if key not in body or body[key] is None:
            continue
        value = body[key]
        if isinstance(value, bool) and bool not in types:
            raise ImageInvalid(f"Property {key} has the wrong type.")
        if not isinstance(value, types):
            raise ImageInvalid(f"Property {key} has the wrong type.")
        schema[key] = value
    if not isinstance(schema.get("title"), str) or not schema["title"]:
        raise ImageInvalid("A property needs a 'title'.")
    if schema.get("type") not in PROPERTY_TYPES:
        raise ImageInvalid(f"A property needs a 'type', one of {', '.join(PROPERTY_TYPES)}.")
    if "enum" in schema and not all(isinstance(v, (str, int, float, bool)) for v in schema["enum"]):
        raise ImageInvalid("enum must be a list of scalars.")
    for key in ("minLength", "maxLength", "minItems", "maxItems"):
        if key in schema and schema[key] < 0:
            raise ImageInvalid(f"{key} must be >= 0.")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error:
            raise ImageInvalid(f"Invalid pattern {schema['pattern']!r}.") from None
    items = schema.get("items")
    if items is not None:
        _unknown(items, {"type", "enum"}, "property's items")
        if "type" in items and items["type"] not in PROPERTY_TYPES:
            raise ImageInvalid("items.type must be a JSON type.")
    return name, schema


def _properties_map(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImageInvalid("properties must be an object of property definitions.")
    out = {}
    for name, definition in value.items():
        _name(name, "property name", 255)
        _, schema = property_schema(definition, name_required=False)
        out[name] = schema
    return out


def _object_fields(body) -> dict:
    body = _object(body, "object")
    _unknown(body, {"name", "description", "required", "properties", "schema", "self", "created_at",
                    "updated_at"}, "object")
    required = body.get("required") or []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ImageInvalid("required must be a list of property names.")
    return {
        "name": _name(body.get("name"), "object name"),
        "description": _text(body.get("description"), "description", 65535),
        "required": required,
        "properties": _properties_map(body.get("properties")),
    }


# --- namespaces --------------------------------------------------------------------------------


def visible_namespaces(project_id: str | None, is_admin: bool) -> QuerySet:
    qs = MetadefNamespace.objects.all()
    if is_admin:
        return qs
    rule = Q(visibility=MetadefNamespace.PUBLIC)
    if project_id:
        rule |= Q(owner=project_id)
    return qs.filter(rule)


def get_namespace(name: str, project_id: str | None, is_admin: bool) -> MetadefNamespace:
    namespace = visible_namespaces(project_id, is_admin).filter(namespace=name).first()
    if namespace is None:
        raise ImageNotFound(f"Metadata definition namespace={name} was not found.")
    return namespace


def list_namespaces(project_id: str | None, is_admin: bool, visibility: str | None = None,
                    resource_types: list[str] | None = None, sort_key: str = "created_at",
                    sort_dir: str = "desc") -> QuerySet:
    qs = visible_namespaces(project_id, is_admin)
    if visibility is not None:
        if visibility not in MetadefNamespace.VISIBILITIES:
            raise ImageInvalid(f"Invalid visibility value: {visibility}")
        qs = qs.filter(visibility=visibility)
    if resource_types:
        qs = qs.filter(associations__resource_type__name__in=resource_types).distinct()
    if sort_key not in SORT_KEYS:
        raise ImageInvalid(f"Invalid sort key: {sort_key}.")
    if sort_dir not in ("asc", "desc"):
        raise ImageInvalid(f"Invalid sort direction: {sort_dir}.")
    prefix = "-" if sort_dir == "desc" else ""
    return qs.order_by(prefix + sort_key, prefix + "id")


def _namespace_fields(body, partial_owner: str | None) -> dict:
    body = _object(body, "namespace")
    fields: dict[str, Any] = {"namespace": _name(body.get("namespace"), "namespace name")}
    fields["display_name"] = _text(body.get("display_name"), "display_name", NAME_MAX)
    fields["description"] = _text(body.get("description"), "description", 500)
    visibility = body.get("visibility", MetadefNamespace.PRIVATE)
    if visibility not in MetadefNamespace.VISIBILITIES:
        raise ImageInvalid(f"Invalid visibility value: {visibility!r} (public or private).")
    fields["visibility"] = visibility
    fields["protected"] = _bool(body.get("protected", False), "protected")
    owner = body.get("owner", partial_owner)
    if owner is not None:
        fields["owner"] = _text(owner, "owner", 255) or partial_owner
    return fields


NAMESPACE_KEYS = {"namespace", "display_name", "description", "visibility", "protected", "owner",
                  "resource_type_associations", "properties", "objects", "tags", "schema", "self",
                  "created_at", "updated_at"}


def create_namespace(body, owner: str | None) -> MetadefNamespace:
    """A namespace, with the properties, objects, tags and resource type associations it
    may carry (all or nothing)."""
    body = _object(body, "namespace")
    _unknown(body, NAMESPACE_KEYS, "namespace")
    fields = _namespace_fields(body, owner or "")
    properties = _properties_map(body.get("properties"))
    objects = [_object_fields(o) for o in _list(body.get("objects"), "objects")]
    tags = [_tag_name(t.get("name") if isinstance(t, dict) else None) for t in _list(body.get("tags"), "tags")]
    associations = [_association_fields(a) for a in _list(body.get("resource_type_associations"),
                                                          "resource_type_associations")]
    if len(set(tags)) != len(tags) or len({o["name"] for o in objects}) != len(objects):
        raise ImageConflict("Duplicate tag or object names in the namespace.")
    try:
        with transaction.atomic():
            namespace = MetadefNamespace.objects.create(**fields)
            for name, schema in properties.items():
                MetadefProperty.objects.create(namespace=namespace, name=name, schema=schema)
            for obj in objects:
                MetadefObject.objects.create(namespace=namespace, **obj)
            for tag in tags:
                MetadefTag.objects.create(namespace=namespace, name=tag)
            for assoc in associations:
                _associate(namespace, assoc)
    except IntegrityError:
        raise ImageConflict(f"A metadata definition namespace named {fields['namespace']} already exists.") from None
    return namespace


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImageInvalid(f"{what} must be a list.")
    return value


def update_namespace(namespace: MetadefNamespace, body) -> MetadefNamespace:
    """PUT: the fields given replace the namespace's (the name too); fields left out keep
    their values."""
    body = _object(body, "namespace")
    _unknown(body, NAMESPACE_KEYS, "namespace")
    current = {"namespace": namespace.namespace, "display_name": namespace.display_name,
               "description": namespace.description, "visibility": namespace.visibility,
               "protected": namespace.protected}
    fields = _namespace_fields({**current, **body}, namespace.owner)
    for key, value in fields.items():
        setattr(namespace, key, value)
    try:
        with transaction.atomic():
            namespace.save()
    except IntegrityError:
        raise ImageConflict(f"A metadata definition namespace named {fields['namespace']} already exists.") from None
    return namespace


def delete_namespace(namespace: MetadefNamespace) -> None:
    if namespace.protected:
        raise ImageForbidden(f"Metadata definition namespace {namespace.namespace} is protected and cannot be "
                             "deleted.")
    namespace.delete()


def _check_unprotected(namespace: MetadefNamespace, what: str) -> None:
    if namespace.protected:
        raise ImageForbidden(f"Namespace {namespace.namespace} is protected: its {what} cannot be deleted.")


# --- objects -----------------------------------------------------------------------------------


def get_object(namespace: MetadefNamespace, name: str) -> MetadefObject:
    obj = namespace.object_defs.filter(name=name).first()
    if obj is None:
        raise ImageNotFound(f"Metadata definition object {name} was not found in namespace {namespace.namespace}.")
    return obj


def create_object(namespace: MetadefNamespace, body) -> MetadefObject:
    fields = _object_fields(body)
    try:
        with transaction.atomic():
            return MetadefObject.objects.create(namespace=namespace, **fields)
    except IntegrityError:
        raise ImageConflict(f"Metadata definition object {fields['name']} already exists in namespace "
                            f"{namespace.namespace}.") from None


def update_object(obj: MetadefObject, body) -> MetadefObject:
    fields = _object_fields(body)
    for key, value in fields.items():
        setattr(obj, key, value)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ImageConflict(f"Metadata definition object {fields['name']} already exists.") from None
    return obj


def delete_objects(namespace: MetadefNamespace) -> None:
    _check_unprotected(namespace, "objects")
    namespace.object_defs.all().delete()


# --- properties --------------------------------------------------------------------------------


def get_property(namespace: MetadefNamespace, name: str) -> MetadefProperty:
    prop = namespace.property_defs.filter(name=name).first()
    if prop is None:
        raise ImageNotFound(f"Metadata definition property {name} was not found in namespace "
                            f"{namespace.namespace}.")
    return prop


def create_property(namespace: MetadefNamespace, body) -> MetadefProperty:
    name, schema = property_schema(body)
    try:
        with transaction.atomic():
            return MetadefProperty.objects.create(namespace=namespace, name=name, schema=schema)
    except IntegrityError:
        raise ImageConflict(f"Metadata definition property {name} already exists in namespace "
                            f"{namespace.namespace}.") from None


def update_property(prop: MetadefProperty, body) -> MetadefProperty:
    name, schema = property_schema(body)
    assert name is not None
    prop.name, prop.schema = name, schema
    try:
        with transaction.atomic():
            prop.save()
    except IntegrityError:
        raise ImageConflict(f"Metadata definition property {name} already exists.") from None
    return prop


def delete_properties(namespace: MetadefNamespace) -> None:
    _check_unprotected(namespace, "properties")
    namespace.property_defs.all().delete()


# --- tags --------------------------------------------------------------------------------------


def _tag_name(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > TAG_MAX or not NAME_RE.match(value):
        raise ImageInvalid(f"Invalid tag name {value!r}: a string of 1 to {TAG_MAX} characters, without '/'.")
    return value


def get_tag(namespace: MetadefNamespace, name: str) -> MetadefTag:
    tag = namespace.tag_defs.filter(name=name).first()
    if tag is None:
        raise ImageNotFound(f"Metadata definition tag {name} was not found in namespace {namespace.namespace}.")
    return tag


def create_tag(namespace: MetadefNamespace, name: str) -> MetadefTag:
    name = _tag_name(name)
    try:
        with transaction.atomic():
            return MetadefTag.objects.create(namespace=namespace, name=name)
    except IntegrityError:
        raise ImageConflict(f"Metadata definition tag {name} already exists in namespace "
                            f"{namespace.namespace}.") from None


def create_tags(namespace: MetadefNamespace, body, append: bool = False) -> list[MetadefTag]:
    """Bulk create: the tags replace the namespace's tags (or are added to them with
    `append`); a duplicate, in the request or (appending) with an existing tag, is a 409."""
    body = _object(body, "request body")
    items = body.get("tags")
    if not isinstance(items, list):
        raise ImageInvalid("The request body needs 'tags', a list of {\"name\": ...}.")
    names = [_tag_name(item.get("name") if isinstance(item, dict) else None) for item in items]
    if len(set(names)) != len(names):
        raise ImageConflict("Duplicate tag names in the request.")
    try:
        with transaction.atomic():
            if not append:
                namespace.tag_defs.all().delete()
            return [MetadefTag.objects.create(namespace=namespace, name=name) for name in names]
    except IntegrityError:
        raise ImageConflict("A metadata definition tag of that name already exists.") from None


def update_tag(tag: MetadefTag, body) -> MetadefTag:
    body = _object(body, "tag")
    tag.name = _tag_name(body.get("name"))
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:
        raise ImageConflict(f"Metadata definition tag {tag.name} already exists.") from None
    return tag


def delete_tags(namespace: MetadefNamespace) -> None:
    _check_unprotected(namespace, "tags")
    namespace.tag_defs.all().delete()


# --- resource types ----------------------------------------------------------------------------


def _association_fields(body) -> dict:
    body = _object(body, "resource type association")
    _unknown(body, {"name", "prefix", "properties_target", "created_at", "updated_at"}, "resource type association")
    return {
        "name": _name(body.get("name"), "resource type name"),
        "prefix": _text(body.get("prefix"), "prefix", NAME_MAX) or None,
        "properties_target": _text(body.get("properties_target"), "properties_target", NAME_MAX) or None,
    }


def _associate(namespace: MetadefNamespace, fields: dict) -> MetadefResourceTypeAssociation:
    # As Glance: an association with an unknown resource type creates the resource type.
    resource_type, _ = MetadefResourceType.objects.get_or_create(name=fields["name"])
    return MetadefResourceTypeAssociation.objects.create(
        namespace=namespace, resource_type=resource_type, prefix=fields["prefix"],
        properties_target=fields["properties_target"],
    )


def associate(namespace: MetadefNamespace, body) -> MetadefResourceTypeAssociation:
    fields = _association_fields(body)
    try:
        with transaction.atomic():
            return _associate(namespace, fields)
    except IntegrityError:
        raise ImageConflict(f"Resource type {fields['name']} is already associated with namespace "
                            f"{namespace.namespace}.") from None


def dissociate(namespace: MetadefNamespace, name: str) -> None:
    if namespace.protected:
        raise ImageForbidden(f"Namespace {namespace.namespace} is protected: its resource type associations "
                             "cannot be deleted.")
    if not namespace.associations.filter(resource_type__name=name).delete()[0]:
        raise ImageNotFound(f"Resource type {name} is not associated with namespace {namespace.namespace}.")


def resource_types() -> QuerySet:
    return MetadefResourceType.objects.all()


# The resource types of Glance's standard catalogue, present from the start as in a Glance whose
# catalogue was loaded (tempest associates namespaces with them).
STANDARD_RESOURCE_TYPES = ("OS::Cinder::Volume", "OS::Glance::Image", "OS::Nova::Aggregate", "OS::Nova::Flavor",
                           "OS::Nova::Server", "OS::Trove::Instance")


def ensure_standard_resource_types() -> None:
    """Create the standard resource types that are missing (after migrate and after a flush)."""
    for name in STANDARD_RESOURCE_TYPES:
        MetadefResourceType.objects.get_or_create(name=name, defaults={"protected": True})
