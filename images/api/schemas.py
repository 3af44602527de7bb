"""The JSON Schemas the image API publishes at `/v2/schemas/...`, built in code.

Every enum and length limit here is read from the definitions the API itself enforces
(images/models.py, images/services/registry.py, images/services/metadefs.py), so a client that
validates a request against a schema and the server that validates it agree. The shapes (which
keys, which are read-only, which `links`) are what OpenStack image clients expect of a Glance v2
endpoint.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.db import models

from images.models import (
    CONTAINER_FORMATS, DISK_FORMATS, Image, ImageMember, MetadefNamespace, MetadefObject, MetadefProperty,
    MetadefResourceType, MetadefResourceTypeAssociation, MetadefTag,
)
from images.services.metadefs import PROPERTY_KEYS, PROPERTY_TYPES
from images.services.registry import TAG_MAX_LENGTH

Schema = dict[str, Any]

UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"


# --- small building blocks ---------------------------------------------------------------------


def _limit(model: type[models.Model], field: str) -> int:
    """The column width of a model field: the longest value the API stores."""
    length = model._meta.get_field(field).max_length
    assert length is not None, f"{model.__name__}.{field} has no max_length"
    return length


def _string(description: str | None = None, *, nullable: bool = False, **extra: Any) -> Schema:
    out: Schema = {"type": ["null", "string"] if nullable else "string", **extra}
    if description:
        out["description"] = description
    return out


def _read_only(kind: str | list[str], description: str | None = None, **extra: Any) -> Schema:
    out: Schema = {"type": kind, "readOnly": True, **extra}
    if description:
        out["description"] = description
    return out


def _timestamp(description: str, *, iso: bool = True) -> Schema:
    """A server-set time; the metadefs schemas also name its format."""
    return _read_only("string", description, **({"format": "date-time"} if iso else {}))


def _choice(values: Iterable[Any], description: str, *, nullable: bool = False) -> Schema:
    """One of `values` (and JSON null first when the field may be unset)."""
    out: Schema = {"type": ["null", "string"] if nullable else "string", "description": description,
                   "enum": ([None] if nullable else []) + list(values)}
    return out


def _links(*rels: str) -> list[dict[str, str]]:
    """`links` templates: each rel points at the field of the same name, except the two aliases."""
    href = {"enclosure": "file", "describedby": "schema"}
    return [{"href": "{%s}" % href.get(rel, rel), "rel": rel} for rel in rels]


def _collection(name: str, item: Schema, *, paged: bool = True, as_map: bool = False) -> Schema:
    """The schema of a list answer: `name` holds the items (an array, or an object keyed by name
    for metadefs properties), beside `schema` and, when paged, `first` and `next`."""
    item = copy.deepcopy(item)
    definitions = item.pop("definitions", None)
    holder: Schema = {"type": "object", "additionalProperties": item} if as_map else {"type": "array", "items": item}
    out: Schema = {"name": name, "properties": {name: holder, "schema": {"type": "string"}}}
    if paged:
        out["properties"].update(first={"type": "string"}, next={"type": "string"})
        out["links"] = _links("first", "next", "describedby")
    else:
        out["links"] = _links("describedby")
    if definitions:
        out["definitions"] = definitions
    return out


def _drop_top_level(schema: Schema, *keys: str) -> Schema:
    return {k: v for k, v in schema.items() if k not in keys}


# --- images and members ------------------------------------------------------------------------


def _image_properties(with_validation_data: bool) -> dict[str, Schema]:
    location: Schema = {"type": "object", "required": ["url", "metadata"], "properties": {
        "url": {"type": "string", "maxLength": 255},
        "metadata": {"type": "object"},
    }}
    if with_validation_data:
        location["properties"]["validation_data"] = {
            "type": "object", "writeOnly": True, "additionalProperties": False,
            "description": "Hash values to check the location's data against.",
            "required": ["os_hash_algo", "os_hash_value"],
            "properties": {
                "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                "os_hash_algo": {"type": "string", "maxLength": _limit(Image, "os_hash_algo")},
                "os_hash_value": {"type": "string", "maxLength": _limit(Image, "os_hash_value")},
            },
        }

    def extra(description: str, **more: Any) -> Schema:
        """A well-known free-form image property (stored among the image's extra properties)."""
        return {"type": "string", "is_base": False, "description": description, **more}

    return {
        # core fields, as images.api.common.glance_image returns them
        "id": _string("Image UUID.", pattern=UUID_PATTERN),
        "name": _string("Name of the image.", nullable=True, maxLength=_limit(Image, "name")),
        "status": _read_only("string", "Lifecycle state of the image.", enum=list(Image.STATUSES)),
        "visibility": _choice(Image.VISIBILITIES, "Who may see the image."),
        "protected": {"type": "boolean", "description": "A protected image cannot be deleted."},
        "os_hidden": {"type": "boolean", "description": "Hidden images are left out of default lists."},
        "owner": _string("Project owning the image.", nullable=True, maxLength=255),
        "size": _read_only(["null", "integer"], "Size of the image data in bytes."),
        "virtual_size": _read_only(["null", "integer"], "Size of the virtual disk in bytes."),
        "checksum": _read_only(["null", "string"], "MD5 of the image data.", maxLength=_limit(Image, "checksum")),
        "os_hash_algo": _read_only(["null", "string"], "Hash algorithm of os_hash_value.",
                                   maxLength=_limit(Image, "os_hash_algo")),
        "os_hash_value": _read_only(["null", "string"], "Digest of the image data.",
                                    maxLength=_limit(Image, "os_hash_value")),
        "min_disk": {"type": "integer", "description": "Disk (GB) needed to boot the image."},
        "min_ram": {"type": "integer", "description": "RAM (MB) needed to boot the image."},
        "disk_format": _choice(DISK_FORMATS, "Format of the disk data.", nullable=True),
        "container_format": _choice(CONTAINER_FORMATS, "Format of the container around the data.", nullable=True),
        "tags": {"type": "array", "description": "Free-form labels.",
                 "items": {"type": "string", "maxLength": TAG_MAX_LENGTH}},
        "created_at": _timestamp("When the image was registered.", iso=False),
        "updated_at": _timestamp("When the image last changed.", iso=False),
        "self": _read_only("string"),
        "file": _read_only("string", "Path of the image data."),
        "schema": _read_only("string"),
        "direct_url": _read_only("string", "Store URL of the data (never shown by this cloud)."),
        "locations": {"type": "array", "description": "Store locations of the data (never shown by this cloud).",
                      "items": location},
        # well-known extra properties
        "architecture": extra("CPU architecture the image runs on."),
        "os_distro": extra("Operating system distribution."),
        "os_version": extra("Operating system version."),
        "instance_uuid": extra("Server this image was taken from (informational)."),
        "kernel_id": extra("Kernel image of an AMI-style image.", type=["null", "string"], pattern=UUID_PATTERN),
        "ramdisk_id": extra("Ramdisk image of an AMI-style image.", type=["null", "string"], pattern=UUID_PATTERN),
    }


def _image(with_validation_data: bool = True) -> Schema:
    return {
        "name": "image",
        "properties": _image_properties(with_validation_data),
        # any other key is an extra image property, always a string
        "additionalProperties": {"type": "string"},
        "links": _links("self", "enclosure", "describedby"),
    }


def _member() -> Schema:
    return {"name": "member", "properties": {
        "image_id": _string("Shared image.", pattern=UUID_PATTERN),
        "member_id": _string("Project the image is shared with."),
        "status": _choice(ImageMember.STATUSES, "The member's answer to the offer."),
        "created_at": _string("When the image was shared."),
        "updated_at": _string("When the member status last changed."),
        "schema": _read_only("string"),
    }}


# --- metadata definitions ----------------------------------------------------------------------


def _nonnegative() -> Schema:
    return {"$ref": "#/definitions/positiveInteger"}


def _property_keys(**extra: Schema) -> dict[str, Schema]:
    """What a property definition may say about its value: one entry per key the metadefs
    service accepts (services.metadefs.PROPERTY_KEYS)."""
    types: Schema = {"type": "string", "enum": [*PROPERTY_TYPES, None]}
    shapes: dict[str, Schema] = {
        "title": {"type": "string"},
        "type": types,
        "description": {"type": "string"},
        "default": {},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "enum": {"type": "array"},
        "pattern": {"type": "string", "format": "regex"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "maxLength": _nonnegative(),
        "confidential": {"type": "boolean"},
        "items": {"type": "object", "properties": {"type": copy.deepcopy(types), "enum": {"type": "array"}}},
        "uniqueItems": {"type": "boolean", "default": False},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "maxItems": _nonnegative(),
        "additionalItems": {"type": "boolean"},
        "readonly": {"type": "boolean"},
        "operators": {"type": "array", "items": {"type": "string"}},
    }
    missing = set(PROPERTY_KEYS) ^ set(shapes)
    assert not missing, f"property keys and their schema shapes differ: {sorted(missing)}"
    return {**shapes, **extra}


def _definitions(*, property_map: bool, names_at_least_one: bool) -> Schema:
    """The `definitions` block shared by the metadefs schemas."""
    string_array: Schema = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    if names_at_least_one:
        string_array["minItems"] = 1
    out: Schema = {
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]},
        "stringArray": string_array,
    }
    if property_map:  # name -> property definition, as namespaces and objects carry them
        out["property"] = {"type": "object", "additionalProperties": {
            "type": "object", "required": ["title", "type"],
            "properties": _property_keys(name=_string(maxLength=_limit(MetadefProperty, "name")))}}
    return out


def _metadef_property() -> Schema:
    return {
        "name": "property",
        "properties": _property_keys(name=_string(maxLength=_limit(MetadefProperty, "name"))),
        "required": ["type", "title", "name"],
        "additionalProperties": False,
        "definitions": _definitions(property_map=False, names_at_least_one=True),
    }


def _metadef_object() -> Schema:
    return {
        "name": "object",
        "properties": {
            "name": _string(maxLength=_limit(MetadefObject, "name")),
            "description": _string(),
            "required": {"$ref": "#/definitions/stringArray"},
            "properties": {"$ref": "#/definitions/property"},
            "created_at": _timestamp("When the object was defined."),
            "updated_at": _timestamp("When the object last changed."),
            "self": _read_only("string"),
            "schema": _read_only("string"),
        },
        "required": ["name"],
        "additionalProperties": False,
        "definitions": _definitions(property_map=True, names_at_least_one=False),
    }


def _metadef_namespace() -> Schema:
    def limited(field: str, description: str | None = None) -> Schema:
        return _string(description, maxLength=_limit(MetadefNamespace, field))

    def inline(*names: str, **more: Schema) -> Schema:
        """A list of small objects given with the namespace when it is created whole."""
        return {"type": "array", "items": {"type": "object", "properties": {
            **{n: {"type": "string"} for n in names}, **more}}}

    return {
        "name": "namespace",
        "properties": {
            "namespace": limited("namespace", "Unique name of the namespace."),
            "display_name": limited("display_name", "Name shown to users."),
            "description": limited("description", "What the namespace is for."),
            "visibility": _choice(MetadefNamespace.VISIBILITIES, "Who may see the namespace."),
            "protected": {"type": "boolean", "description": "A protected namespace cannot be deleted."},
            "owner": _string("Project owning the namespace.", maxLength=_limit(MetadefNamespace, "owner")),
            "created_at": _timestamp("When the namespace was created."),
            "updated_at": _timestamp("When the namespace last changed."),
            "schema": _read_only("string"),
            "self": _read_only("string"),
            "resource_type_associations": inline("name", "prefix", "properties_target"),
            "properties": {"$ref": "#/definitions/property"},
            "objects": inline("name", "description", required={"$ref": "#/definitions/stringArray"},
                              properties={"$ref": "#/definitions/property"}),
            "tags": inline("name"),
        },
        "required": ["namespace"],
        "additionalProperties": False,
        "definitions": _definitions(property_map=True, names_at_least_one=False),
    }


def _metadef_resource_type() -> Schema:
    assoc = MetadefResourceTypeAssociation
    return {
        "name": "resource_type_association",
        "properties": {
            "name": _string("Resource type, e.g. OS::Glance::Image.", maxLength=_limit(MetadefResourceType, "name")),
            "prefix": _string("Prefix of the namespace's properties on this resource type.",
                              maxLength=_limit(assoc, "prefix")),
            "properties_target": _string("Which metadata of the resource the properties apply to.",
                                         maxLength=_limit(assoc, "properties_target")),
            "created_at": _timestamp("When the association was made."),
            "updated_at": _timestamp("When the association last changed."),
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def _metadef_tag() -> Schema:
    return {
        "name": "tag",
        "properties": {
            "name": _string(maxLength=_limit(MetadefTag, "name")),
            "created_at": _timestamp("When the tag was defined."),
            "updated_at": _timestamp("When the tag last changed."),
        },
        "required": ["name"],
        "additionalProperties": False,
    }


def _metadef_properties() -> Schema:
    # In the list, each property is keyed by its name, so the name itself is not required.
    one = _metadef_property()
    one["required"] = ["type", "title"]
    return _collection("properties", one, as_map=True)


BUILDERS: dict[str, Callable[[], Schema]] = {
    "image": _image,
    "images": lambda: _collection("images", _image(with_validation_data=False)),
    "member": _member,
    "members": lambda: _collection("members", _member(), paged=False),
    "metadefs/namespace": _metadef_namespace,
    "metadefs/namespaces": lambda: _collection("namespaces", _metadef_namespace()),
    "metadefs/object": _metadef_object,
    "metadefs/objects": lambda: _collection("objects", _metadef_object()),
    "metadefs/property": _metadef_property,
    "metadefs/properties": _metadef_properties,
    "metadefs/tag": _metadef_tag,
    "metadefs/tags": lambda: _collection("tags", _metadef_tag()),
    "metadefs/resource_type": _metadef_resource_type,
    "metadefs/resource_types": lambda: _collection("resource_type_associations", _metadef_resource_type()),
}
NAMES = tuple(BUILDERS)


@cache
def _built(name: str) -> Schema:
    return BUILDERS[name]()


def get(name: str) -> Schema:
    """A fresh copy of the schema called `name` (KeyError for an unknown name)."""
    return copy.deepcopy(_built(name))
