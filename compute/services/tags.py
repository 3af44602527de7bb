"""Server tags (Nova's server tags, microversion 2.26; on create from 2.52).

A tag is a string of 1 to 60 characters without "/" or ","; a server has at most 50. Tags are
listed in alphabetical order (as Nova's tags table, keyed by server and tag, returns them).
Changing them needs the server ACTIVE, PAUSED, SUSPENDED or STOPPED (409 otherwise, as Nova).

    validate_tags(tags)                 -> the list (400 for a bad one or more than MAX_TAGS)
    list_tags(instance) / has_tag(instance, tag)
    add_tag(instance, tag)              -> True if new (False: it was there)
    replace_tags(instance, tags) / delete_tag(instance, tag) / delete_all(instance)
    set_on_create(instances, tags)      the create transaction's tags (2.52)
    tags_by_instance(instances)         {instance pk: [tag, ...]} (one query)
    filter_by_tags(qs, all_of, any_of, not_all_of, not_any_of)   the servers list filters
"""
from django.db import transaction

from cloudproj.exceptions import Invalid, NotFound

from .. import states
from ..models import Instance, InstanceTag

MAX_TAGS = 50
MAX_TAG_LENGTH = 60
TAGGABLE_VM_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED)


def validate_tag(tag) -> str:
    if not isinstance(tag, str) or not 1 <= len(tag) <= MAX_TAG_LENGTH or "/" in tag or "," in tag:
        raise Invalid(f"Tag '{tag}' is invalid. It must be a non empty string of at most {MAX_TAG_LENGTH} "
                      "characters without characters '/' and ','.")
    return tag


def validate_tags(tags) -> list[str]:
    if not isinstance(tags, list):
        raise Invalid("Invalid input for field/attribute tags: must be a list of strings.")
    if len(tags) > MAX_TAGS:
        raise Invalid(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
    return list(dict.fromkeys(validate_tag(tag) for tag in tags))


def check_state(instance, action: str) -> None:
    if instance.vm_state not in TAGGABLE_VM_STATES:
        raise states.InstanceInvalidState(
            f"Cannot '{action}' instance {instance.uuid} while it is in vm_state {instance.vm_state}",
            action, "vm_state", instance.vm_state)


def list_tags(instance) -> list[str]:
    return list(InstanceTag.objects.filter(instance=instance).order_by("tag").values_list("tag", flat=True))


def has_tag(instance, tag: str) -> bool:
    return InstanceTag.objects.filter(instance=instance, tag=tag).exists()


def _locked(instance) -> None:
    """Serialize tag changes of one server (the count limit)."""
    Instance.all_objects.select_for_update().filter(pk=instance.pk).first()


def add_tag(instance, tag: str) -> bool:
    check_state(instance, "update tag")
    validate_tag(tag)
    with transaction.atomic():
        _locked(instance)
        existing = list_tags(instance)
        if len(existing) >= MAX_TAGS:
            raise Invalid(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
        if tag in existing:
            return False
        InstanceTag.objects.create(instance=instance, tag=tag)
    return True


def replace_tags(instance, tags) -> list[str]:
    check_state(instance, "update tags")
    tags = validate_tags(tags)
    with transaction.atomic():
        _locked(instance)
        InstanceTag.objects.filter(instance=instance).exclude(tag__in=tags).delete()
        have = set(list_tags(instance))
        InstanceTag.objects.bulk_create([InstanceTag(instance=instance, tag=tag) for tag in tags if tag not in have])
    return list_tags(instance)


def delete_tag(instance, tag: str) -> None:
    check_state(instance, "delete tag")
    if not InstanceTag.objects.filter(instance=instance, tag=tag).delete()[0]:
        raise NotFound(f"Instance {instance.uuid} has no tag '{tag}'")


def delete_all(instance) -> None:
    check_state(instance, "delete tags")
    InstanceTag.objects.filter(instance=instance).delete()


def set_on_create(instances, tags) -> None:
    if tags:
        InstanceTag.objects.bulk_create([InstanceTag(instance=i, tag=tag) for i in instances for tag in tags])


def tags_by_instance(instances) -> dict:
    result: dict = {}
    rows = InstanceTag.objects.filter(instance__in=[i.pk for i in instances]).order_by("tag")
    for instance_id, tag in rows.values_list("instance_id", "tag"):
        result.setdefault(instance_id, []).append(tag)
    return result


def filter_by_tags(qs, all_of=(), any_of=(), not_all_of=(), not_any_of=()):
    """Nova's tags (all of), tags-any, not-tags (not all of) and not-tags-any (none of)."""
    for tag in all_of:
        qs = qs.filter(pk__in=InstanceTag.objects.filter(tag=tag).values("instance_id"))
    if any_of:
        qs = qs.filter(pk__in=InstanceTag.objects.filter(tag__in=any_of).values("instance_id"))
    if not_all_of:
        having_all = Instance.all_objects.all()
        for tag in not_all_of:
            having_all = having_all.filter(pk__in=InstanceTag.objects.filter(tag=tag).values("instance_id"))
        qs = qs.exclude(pk__in=having_all.values("pk"))
    if not_any_of:
        qs = qs.exclude(pk__in=InstanceTag.objects.filter(tag__in=not_any_of).values("instance_id"))
    return qs
