"""Operators' changes to the catalog (regions, services, endpoints) and unified limits."""
from django.db import IntegrityError, transaction

from identity.models import Endpoint, Region, Service
from identity.services.accounts import Duplicate


def save(obj, what: str, **changes):
    """Set `changes` on a catalog row and save it; a clash on a unique key is Duplicate."""
    for field, value in changes.items():
        setattr(obj, field, value)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store {what} - Duplicate ID, {obj.pk}.") from None
    return obj


def create_region(region_id: str, **changes) -> Region:
    if Region.objects.filter(pk=region_id).exists():
        raise Duplicate(f"Conflict occurred attempting to store region - Duplicate ID, {region_id}.")
    return save(Region(id=region_id), "region", **changes)


def region_loops(region: Region, parent: Region | None) -> bool:
    """True when making `parent` the parent of `region` would close a cycle."""
    seen = set()
    while parent is not None and parent.pk not in seen:
        if parent.pk == region.pk:
            return True
        seen.add(parent.pk)
        parent = parent.parent_region
    return False


def delete_service(service: Service) -> None:
    service.delete()  # its endpoints and limits go with it


def delete_endpoint(endpoint: Endpoint) -> None:
    endpoint.delete()
