"""Host aggregates: named sets of hosts with metadata (os-aggregates).

The `availability_zone` metadata key puts the aggregate's hosts in that zone (as Nova): the
compute services of those hosts carry it in Service.availability_zone, which the scheduler's
AvailabilityZoneFilter, the zone list and os-hosts read. A host leaves the zone again when it
leaves the aggregate or the key goes (back to DEFAULT_AVAILABILITY_ZONE; a compute agent
that re-registers with a zone of its own gets that one, unless an aggregate says otherwise).
A host is in at most one zone: adding it to an aggregate of another zone is refused (409).

    create_aggregate(name, availability_zone=None) / update_aggregate(id, name=, availability_zone=)
    delete_aggregate(id)                      400 while it has hosts
    add_host(id, host) / remove_host(id, host)
    set_metadata(id, {key: value|None})       None removes the key
    aggregate_zone(host) -> zone|None          the zone the host's aggregates give it
    host_aggregate_metadata() -> {host: [metadata, ...]}   for the scheduler's filters
"""
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cloudproj.exceptions import Conflict, Invalid, NotFound

from ..models import Aggregate, AggregateHost, AggregateMetadata, Service

AZ_KEY = "availability_zone"


def validate_text(value, field: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise Invalid(f"Invalid input for field/attribute {field}: a string of 1 to 255 characters is required.")
    if value.strip() != value:
        raise Invalid(f"Invalid input for field/attribute {field}: leading or trailing whitespace is not allowed.")
    return value


def validate_zone(zone) -> str:
    zone = validate_text(zone, AZ_KEY)
    if zone == settings.INTERNAL_SERVICE_AVAILABILITY_ZONE:
        raise Invalid(f"Aggregates cannot use the internal availability zone {zone!r}.")
    if ":" in zone:
        raise Invalid("Invalid input for field/attribute availability_zone: ':' is not allowed.")
    return zone


def get_aggregate(aggregate_id, lock: bool = False) -> Aggregate:
    try:
        pk = int(str(aggregate_id))
    except ValueError:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.") from None
    qs = Aggregate.objects.select_for_update() if lock else Aggregate.objects
    aggregate = qs.filter(pk=pk).first()
    if aggregate is None:
        raise NotFound(f"Aggregate {aggregate_id} could not be found.")
    return aggregate


def list_aggregates():
    return Aggregate.objects.prefetch_related("hosts", "metadata").order_by("id")


def metadata_of(aggregate: Aggregate) -> dict:
    return {row.key: row.value for row in aggregate.metadata.all()}


def zone_of(aggregate: Aggregate) -> str | None:
    return metadata_of(aggregate).get(AZ_KEY)


def hosts_of(aggregate: Aggregate) -> list[str]:
    return [row.host for row in aggregate.hosts.all()]


def _touch(aggregate: Aggregate) -> None:
    aggregate.updated_at = timezone.now()
    aggregate.save(update_fields=["updated_at"])


# --- zones -------------------------------------------------------------------------------------


def zones_of_host(host: str, exclude_aggregate=None) -> set[str]:
    qs = AggregateMetadata.objects.filter(
        key=AZ_KEY, aggregate__deleted_at__isnull=True, aggregate__hosts__host=host
    )
    if exclude_aggregate is not None:
        qs = qs.exclude(aggregate_id=exclude_aggregate)
    return set(qs.values_list("value", flat=True))


def aggregate_zone(host: str) -> str | None:
    """The zone the host's aggregates put it in (None: no aggregate of the host has one)."""
    zones = sorted(zones_of_host(host))
    return zones[0] if zones else None


def sync_host_zones(hosts) -> None:
    """The compute services of `hosts` take the zone their aggregates give them (or the default)."""
    for host in set(hosts):
        zone = aggregate_zone(host) or settings.DEFAULT_AVAILABILITY_ZONE
        Service.objects.filter(host=host, binary="nova-compute").exclude(availability_zone=zone).update(
            availability_zone=zone, updated_at=timezone.now()
        )


def _check_zone_for_hosts(aggregate: Aggregate, zone: str | None, hosts) -> None:
    """A host is in one zone: none of `hosts` may be in another aggregate with another zone."""
    if zone is None:
        return
    for host in hosts:
        others = zones_of_host(host, exclude_aggregate=aggregate.pk) - {zone}
        if others:
            raise Conflict(
                f"Cannot add host {host} to aggregate {aggregate.pk}: it is already in availability "
                f"zone(s) {', '.join(sorted(others))}."
            )


# --- changes -----------------------------------------------------------------------------------


def create_aggregate(name, availability_zone=None) -> Aggregate:
    name = validate_text(name, "name")
    zone = None if availability_zone is None else validate_zone(availability_zone)
    try:
        with transaction.atomic():
            aggregate = Aggregate.objects.create(name=name)
            if zone is not None:
                AggregateMetadata.objects.create(aggregate=aggregate, key=AZ_KEY, value=zone)
    except IntegrityError:
        raise Conflict(f"Aggregate {name} already exists.") from None
    return aggregate


def update_aggregate(aggregate_id, name=None, availability_zone=None, set_zone: bool = False) -> Aggregate:
    """Rename and/or set the zone (set_zone with availability_zone None removes it)."""
    if name is not None:
        name = validate_text(name, "name")
    zone = validate_zone(availability_zone) if availability_zone is not None else None
    try:
        with transaction.atomic():
            aggregate = get_aggregate(aggregate_id, lock=True)
            if name is not None:
                aggregate.name = name
                aggregate.save(update_fields=["name"])
            if set_zone:
                _set_keys(aggregate, {AZ_KEY: zone}, conflict=Invalid)
            _touch(aggregate)
    except IntegrityError:
        raise Conflict(f"Aggregate {name} already exists.") from None
    return aggregate


def delete_aggregate(aggregate_id) -> None:
    with transaction.atomic():
        aggregate = get_aggregate(aggregate_id, lock=True)
        if aggregate.hosts.exists():
            raise Invalid(f"Cannot delete aggregate {aggregate.pk}: it still has hosts ({', '.join(hosts_of(aggregate))}).")
        aggregate.metadata.all().delete()
        aggregate.soft_delete()


def add_host(aggregate_id, host) -> Aggregate:
    if not isinstance(host, str) or not host:
        raise Invalid("Invalid input for field/attribute host: a host name is required.")
    with transaction.atomic():
        aggregate = get_aggregate(aggregate_id, lock=True)
        if not Service.objects.filter(host=host, binary="nova-compute").exists():
            raise NotFound(f"Compute host {host} could not be found.")
        if aggregate.hosts.filter(host=host).exists():
            raise Conflict(f"Aggregate {aggregate.pk} already has host {host}.")
        _check_zone_for_hosts(aggregate, zone_of(aggregate), [host])
        AggregateHost.objects.create(aggregate=aggregate, host=host)
        _touch(aggregate)
        sync_host_zones([host])
    return aggregate


def remove_host(aggregate_id, host) -> Aggregate:
    if not isinstance(host, str) or not host:
        raise Invalid("Invalid input for field/attribute host: a host name is required.")
    with transaction.atomic():
        aggregate = get_aggregate(aggregate_id, lock=True)
        deleted, _ = aggregate.hosts.filter(host=host).delete()
        if not deleted:
            raise NotFound(f"Cannot remove host {host} from aggregate {aggregate.pk}: it is not in it.")
        _touch(aggregate)
        sync_host_zones([host])
    return aggregate


def set_metadata(aggregate_id, metadata) -> Aggregate:
    if not isinstance(metadata, dict):
        raise Invalid("Invalid input for field/attribute metadata: must be an object.")
    for key, value in metadata.items():
        validate_text(key, "metadata key")
        if value is not None:
            if not isinstance(value, str) or len(value) > 255:
                raise Invalid(f"Invalid input for field/attribute metadata value of {key!r}: "
                              "a string of at most 255 characters or null is required.")
    if metadata.get(AZ_KEY) is not None:
        validate_zone(metadata[AZ_KEY])
    with transaction.atomic():
        aggregate = get_aggregate(aggregate_id, lock=True)
        _set_keys(aggregate, metadata, conflict=Invalid)
        _touch(aggregate)
    return aggregate


def _set_keys(aggregate: Aggregate, metadata: dict, conflict) -> None:
    """Set (None: remove) keys; a zone change moves the aggregate's hosts, unless one of them
    is in another zone through another aggregate (`conflict`)."""
    if AZ_KEY in metadata:
        try:
            _check_zone_for_hosts(aggregate, metadata[AZ_KEY], hosts_of(aggregate))
        except Conflict as exc:
            raise conflict(exc.message) from None
    for key, value in metadata.items():
        if value is None:
            aggregate.metadata.filter(key=key).delete()
        else:
            AggregateMetadata.objects.update_or_create(aggregate=aggregate, key=key, defaults={"value": value})
    if AZ_KEY in metadata:
        sync_host_zones(hosts_of(aggregate))


# --- for the scheduler ------------------------------------------------------------------------


def host_aggregate_metadata(hosts=None) -> dict[str, list[dict]]:
    """{host: [metadata of each aggregate it is in]} (hosts in no aggregate are absent)."""
    rows = AggregateHost.objects.filter(aggregate__deleted_at__isnull=True)
    if hosts is not None:
        rows = rows.filter(host__in=list(hosts))
    pairs = list(rows.values_list("host", "aggregate_id"))
    metadata: dict[int, dict] = {}
    for aggregate_id, key, value in AggregateMetadata.objects.filter(
        aggregate_id__in={a for _h, a in pairs}
    ).values_list("aggregate_id", "key", "value"):
        metadata.setdefault(aggregate_id, {})[key] = value
    result: dict[str, list[dict]] = {}
    for host, aggregate_id in pairs:
        result.setdefault(host, []).append(metadata.get(aggregate_id, {}))
    return result
