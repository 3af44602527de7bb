"""The quota engine (plain Python): limits, usage, and reservations.

Limits
    `settings.QUOTA_DEFAULTS` (the seeds' defaults) on top of `BUILTIN_DEFAULTS` (Cinder's
    defaults for the volume resources the seeds do not name), overridden per project by
    `Quota` rows. -1 means unlimited.

Usage
    One `QuotaUsage` row per (project, resource), created on first use: `in_use` is what the
    project holds, `reserved` what requests in flight have claimed but not yet committed.

Reservations (Nova's reserve / commit / rollback)
    `reserve(project, {"instances": 1, "cores": 2})` locks the project's usage rows with
    SELECT ... FOR UPDATE, always in resource-name order (so two requests cannot deadlock),
    refuses with `OverQuota` when `in_use + reserved + delta > limit` for a positive delta,
    and otherwise adds positive deltas to `reserved` and records one `Reservation` row per
    resource under a shared uuid. Negative deltas (freeing resources) are always allowed and
    only take effect on commit. `commit(uuid)` moves the deltas into `in_use`;
    `rollback(uuid)` gives positive ones back. Reservations not committed in time
    (`settings.RESERVATION_EXPIRE` seconds unless `expire` says otherwise) are rolled back
    by `expire_reservations()`, meant to run as a periodic task.

Lowering a limit below what the project already uses (`in_use + reserved`) is refused
with `InvalidQuotaValue` unless `force=True`, as Nova does; the usage row is locked while
checking so a concurrent reservation cannot slip in between.

Resources that are not counted (metadata_items, injected_file_* ...) are per-request
limits: check them with `check_absolute(project, {"metadata_items": n})`.

Per-volume-type limits (Cinder's `volumes_<type>`, `gigabytes_<type>`, `snapshots_<type>`)
    exist for each volume type (the volumes app registers the names: `register_type_names`),
    default -1, and are counted like the others (the volumes app reserves them beside
    `volumes`, `gigabytes` and `snapshots`). Reads include them only when asked
    (`with_types=True`) or when a reservation names one, so other callers pay no query.

Per-user limits (Nova's `?user_id=`)
    `UserQuota` rows limit one user inside a project; a user without rows has the project's
    limits. A user's limit lies between what the user holds and the project's limit (both
    checked unless `force`, as Nova does). `reserve`, `consume` and `check_absolute` given a
    `user_id` check the user's limits too, after the project's usage rows are locked; what a
    user holds is counted from the resources (identity.services.usage_refresh.user_usage).
"""
import logging
import uuid as uuid_lib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.utils import timezone

from identity.models import Project, Quota, QuotaClass, QuotaUsage, Reservation, UserQuota

log = logging.getLogger(__name__)

UNLIMITED = -1
MAX_LIMIT = 0x7FFFFFFF  # a 32-bit signed integer column, as Nova's schema allows

# Defaults for resources settings.QUOTA_DEFAULTS does not name (Cinder's defaults).
BUILTIN_DEFAULTS = {
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "groups": 10,
}

COMPUTE_RESOURCES = (
    "instances",
    "cores",
    "ram",
    "floating_ips",
    "fixed_ips",
    "metadata_items",
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
    "key_pairs",
    "security_groups",
    "security_group_rules",
    "server_groups",
    "server_group_members",
)
VOLUME_RESOURCES = (
    "volumes",
    "gigabytes",
    "snapshots",
    "per_volume_gigabytes",
    "backups",
    "backup_gigabytes",
    "groups",
)


class QuotaError(Exception):
    """Base class of the engine's errors (the APIs turn them into 400/404/413)."""


class UnknownResource(QuotaError):
    pass


class InvalidQuotaValue(QuotaError):
    pass


class ReservationNotFound(QuotaError):
    pass


class OverQuota(QuotaError):
    """A reservation would exceed a limit. `overs` lists the resources; `quotas`, `usages`
    (in_use + reserved) and `requested` give the numbers for each of them."""

    def __init__(self, overs, quotas, usages, requested):
        self.overs = sorted(overs)
        self.quotas = {r: quotas[r] for r in self.overs}
        self.usages = {r: usages[r] for r in self.overs}
        self.requested = {r: requested[r] for r in self.overs}
        detail = ", ".join(
            f"{r} (requested {self.requested[r]}, used {self.usages[r]}, limit {self.quotas[r]})"
            for r in self.overs
        )
        super().__init__(f"Quota exceeded for {detail}.")


# --- limits --------------------------------------------------------------------------------


DEFAULT_CLASS = "default"
PER_TYPE_RESOURCES = ("volumes", "gigabytes", "snapshots")
_type_names = None  # a callable -> the volume types' names (volumes app)


def register_type_names(names) -> None:
    """The volumes app tells which volume types exist (a callable giving their names)."""
    global _type_names
    _type_names = names


def per_type_resources() -> tuple:
    """`volumes_<type>`, `gigabytes_<type>`, `snapshots_<type>` of every volume type."""
    names = sorted(_type_names()) if _type_names is not None else []
    return tuple(f"{resource}_{name}" for name in names for resource in PER_TYPE_RESOURCES)


def _is_per_type(resource: str) -> bool:
    return any(resource.startswith(f"{prefix}_") for prefix in PER_TYPE_RESOURCES)


def configured_defaults(with_types: bool = False) -> dict:
    """{resource: limit} from the settings alone (what an admin's defaults start from); the
    per-volume-type resources (-1) too `with_types`."""
    defaults = {**BUILTIN_DEFAULTS, **getattr(settings, "QUOTA_DEFAULTS", {})}
    if with_types:
        defaults.update({resource: UNLIMITED for resource in per_type_resources()})
    return defaults


def get_defaults(with_types: bool = False) -> dict:
    """{resource: default limit} for every known resource: the settings, overridden by the
    admin's "default" quota class (os-quota-class-sets/default, the dashboard's Default quotas)."""
    defaults = configured_defaults(with_types)
    rows = QuotaClass.objects.filter(class_name=DEFAULT_CLASS).values_list("resource", "hard_limit")
    for resource, limit in rows:
        if resource in defaults:
            defaults[resource] = limit
    return defaults


def set_defaults(limits: dict) -> dict:
    """Change default limits (all or nothing). Any value from -1 to 2**31-1 is accepted: as in
    Nova's quota classes, a default is not checked against any project's usage (a project
    already above it keeps what it has and cannot grow)."""
    values = {resource: validate_limit(resource, limit) for resource, limit in limits.items()}
    with transaction.atomic():
        for resource, limit in values.items():
            QuotaClass.objects.update_or_create(
                class_name=DEFAULT_CLASS, resource=resource, defaults={"hard_limit": limit}
            )
    return values


def known_resources() -> frozenset:
    return frozenset(configured_defaults())


def _project_id(project) -> str:
    return project.id if isinstance(project, Project) else str(project)


def _check_resources(resources) -> None:
    """UnknownResource unless each is a known resource (the per-type ones looked up once)."""
    static = known_resources()
    rest = [r for r in resources if r not in static]
    if rest:
        typed = set(per_type_resources()) if any(_is_per_type(r) for r in rest) else set()
        unknown = [r for r in rest if r not in typed]
        if unknown:
            raise UnknownResource(f"Unknown quota resource {unknown[0]!r}.")


def _check_resource(resource: str) -> None:
    _check_resources([resource])


def validate_limit(resource: str, limit) -> int:
    """The limit as an int; integers and integer strings from -1 to 2**31-1 are accepted."""
    _check_resource(resource)
    if isinstance(limit, bool):
        raise InvalidQuotaValue(f"Quota limit for {resource} must be an integer, not a boolean.")
    if isinstance(limit, str):
        text = limit.strip()
        if not text.lstrip("-").isdigit() or text.count("-") > 1:
            raise InvalidQuotaValue(f"Quota limit for {resource} must be an integer, got {limit!r}.")
        limit = int(text)
    elif isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    elif not isinstance(limit, int):
        raise InvalidQuotaValue(f"Quota limit for {resource} must be an integer, got {limit!r}.")
    if limit < UNLIMITED or limit > MAX_LIMIT:
        raise InvalidQuotaValue(
            f"Quota limit {limit} for {resource} must be between -1 (unlimited) and {MAX_LIMIT}."
        )
    return limit


def get_quotas(project, with_types: bool = False) -> dict:
    """{resource: limit} for the project: defaults overridden by its Quota rows."""
    return _limits(_project_id(project), with_types)[0]


def _limits(project_id: str, with_types: bool = False, user_id=None) -> tuple[dict, dict]:
    """({resource: project limit}, {resource: the user's own limit}) in one query of the rows."""
    quotas = get_defaults(with_types)
    rows = Quota.objects.filter(project_id=project_id).annotate(mine=Value(False)).values_list(
        "resource", "hard_limit", "mine")
    if user_id is not None:  # the user's rows in the same query (the boot path counts queries)
        rows = rows.union(_user_rows(project_id, user_id).annotate(mine=Value(True)).values_list(
            "resource", "hard_limit", "mine"), all=True)
    user_limits: dict[str, int] = {}
    for resource, limit, mine in rows:
        if resource in quotas:
            (user_limits if mine else quotas)[resource] = limit
    return quotas, user_limits


def set_quota(project, resource: str, limit, force: bool = False) -> int:
    """Override one limit; see `set_quotas`."""
    return set_quotas(project, {resource: limit}, force=force)[resource]


def set_quotas(project, limits: dict, force: bool = False) -> dict:
    """Override several limits at once (all or nothing). Returns the new {resource: limit}.

    Without `force`, a limit below the current in_use + reserved is refused
    (InvalidQuotaValue), as Nova does; -1 (unlimited) is always accepted.
    """
    values = {resource: validate_limit(resource, limit) for resource, limit in limits.items()}
    project_id = _project_id(project)
    with transaction.atomic():
        usages = _lock_usages(project_id, sorted(values)) if not force else {}
        if not force:
            too_low = []
            for resource, limit in sorted(values.items()):
                usage = usages[resource]
                used = usage.in_use + usage.reserved
                if limit != UNLIMITED and limit < used:
                    too_low.append(f"{resource} ({limit} < {used} used and reserved)")
            if too_low:
                raise InvalidQuotaValue(
                    "Quota limit must be greater than or equal to already used and reserved: "
                    + ", ".join(too_low)
                    + "."
                )
        for resource, limit in values.items():
            Quota.objects.update_or_create(
                project_id=project_id, resource=resource, defaults={"hard_limit": limit}
            )
    return values


def delete_quotas(project, resources=None) -> int:
    """Back to the defaults (all resources, or only `resources`). Returns rows removed."""
    rows = Quota.objects.filter(project_id=_project_id(project))
    if resources is not None:
        rows = rows.filter(resource__in=list(resources))
    deleted, _ = rows.delete()
    return deleted


def check_absolute(project, values: dict, user_id: str | None = None) -> None:
    """Per-request limits (metadata_items, injected_files...): OverQuota if a value > limit
    (the user's limit when `user_id` is given)."""
    quotas = get_quotas(project) if user_id is None else get_user_quotas(project, user_id)
    for resource in values:
        _check_resource(resource)
    overs = [r for r, v in values.items() if quotas[r] != UNLIMITED and v > quotas[r]]
    if overs:
        raise OverQuota(overs, quotas, {r: 0 for r in values}, values)


def parse_quota_update(body, allowed, allow_force: bool = True) -> tuple[dict, bool]:
    """Check a `{"quota_set": {...}}` request body: returns ({resource: limit}, force).

    Unknown keys, wrong types and out-of-range values raise InvalidQuotaValue or
    UnknownResource. `force` may be a boolean or "true"/"false" (Nova accepts both)."""
    if not isinstance(body, dict) or not isinstance(body.get("quota_set"), dict):
        raise InvalidQuotaValue("The request body must be an object with a 'quota_set' object.")
    extra = sorted(set(body) - {"quota_set"})
    if extra:
        raise InvalidQuotaValue(f"Additional properties are not allowed ({', '.join(extra)}).")
    items = dict(body["quota_set"])
    force = False
    if allow_force and "force" in items:
        force = items.pop("force")
        if isinstance(force, str) and force.lower() in ("true", "false"):
            force = force.lower() == "true"
        if not isinstance(force, bool):
            raise InvalidQuotaValue(f"'force' must be a boolean, got {force!r}.")
    unknown = sorted(set(items) - set(allowed))
    if unknown:
        raise UnknownResource(f"Bad key(s) in quota set: {', '.join(unknown)}.")
    return {resource: validate_limit(resource, value) for resource, value in items.items()}, force


# --- per-user limits ------------------------------------------------------------------------


def _user_rows(project, user_id: str, resources=None):
    rows = UserQuota.objects.filter(project_id=_project_id(project), user_id=str(user_id))
    if resources is not None:
        rows = rows.filter(resource__in=list(resources))
    return rows


def get_user_quotas(project, user_id: str) -> dict:
    """{resource: limit} of a user in the project: the project's, overridden by the user's rows."""
    quotas, mine = _limits(_project_id(project), user_id=str(user_id))
    return {**quotas, **mine}


_user_usage = None  # (project_id, user_id) -> {resource: n}: usage_refresh.user_usage (identity's ready())


def register_user_usage(count) -> None:
    global _user_usage
    _user_usage = count


def get_user_usages(project, user_id: str) -> dict:
    """{resource: n} the user holds in the project (0 for resources not counted per user)."""
    counted = _user_usage(_project_id(project), str(user_id)) if _user_usage is not None else {}
    return {resource: 0 for resource in configured_defaults()} | counted


def get_user_quota_details(project, user_id: str) -> dict:
    """{resource: {"limit", "in_use", "reserved"}} of a user (usage counted, nothing reserved)."""
    limits = get_user_quotas(project, user_id)
    used = get_user_usages(project, user_id)
    return {r: {"limit": limits[r], "in_use": used[r], "reserved": 0} for r in limits}


def _as_max(limit: int) -> float:
    return float("inf") if limit == UNLIMITED else limit


def set_user_quotas(project, user_id: str, limits: dict, force: bool = False) -> dict:
    """Set a user's limits in the project (all or nothing). Without `force`, each must be at
    least what the user holds and at most the project's limit (-1 counts as infinite)."""
    values = {resource: validate_limit(resource, limit) for resource, limit in limits.items()}
    project_id = _project_id(project)
    with transaction.atomic():
        if not force:
            _lock_usages(project_id, sorted(values))  # the project's limits and usage stay put
            project_limits = get_quotas(project_id)
            used = get_user_usages(project_id, user_id)
            errors = []
            for resource, limit in sorted(values.items()):
                if _as_max(limit) < used[resource]:
                    errors.append(f"Quota limit {limit} for {resource} must be greater than or equal to "
                                  f"already used and reserved {used[resource]}.")
                elif _as_max(limit) > _as_max(project_limits[resource]):
                    errors.append(f"Quota limit {limit} for {resource} must be less than or equal to "
                                  f"{project_limits[resource]}.")
            if errors:
                raise InvalidQuotaValue(" ".join(errors))
        for resource, limit in values.items():
            UserQuota.objects.update_or_create(
                project_id=project_id, user_id=str(user_id), resource=resource, defaults={"hard_limit": limit}
            )
    return values


def delete_user_quotas(project, user_id: str, resources=None) -> int:
    """The user back to the project's limits. Returns rows removed."""
    deleted, _ = _user_rows(project, user_id, resources).delete()
    return deleted


def _check_user(project_id: str, user_id, user_limits: dict, deltas: dict) -> None:
    """OverQuota if a positive delta does not fit in the user's own limits (when it has any)."""
    limits = {r: limit for r, limit in user_limits.items() if deltas.get(r, 0) > 0}
    if not limits:
        return
    used = get_user_usages(project_id, user_id)
    overs = [r for r, limit in limits.items() if limit != UNLIMITED and used[r] + deltas[r] > limit]
    if overs:
        raise OverQuota(overs, limits, used, deltas)


# --- usage ---------------------------------------------------------------------------------


def get_usages(project, with_types: bool = False) -> dict:
    """{resource: {"in_use": n, "reserved": n}} for every known resource (0 when untracked)."""
    usages = {resource: {"in_use": 0, "reserved": 0} for resource in configured_defaults(with_types)}
    rows = QuotaUsage.objects.filter(project_id=_project_id(project)).values_list(
        "resource", "in_use", "reserved"
    )
    for resource, in_use, reserved in rows:
        if resource in usages:
            usages[resource] = {"in_use": in_use, "reserved": reserved}
    return usages


def get_quota_details(project, with_types: bool = False) -> dict:
    """{resource: {"limit", "in_use", "reserved"}} for every known resource."""
    quotas = get_quotas(project, with_types)
    usages = get_usages(project, with_types)
    return {r: {"limit": quotas[r], **usages[r]} for r in quotas}


def _ensure_usage_rows(project_id: str, resources) -> None:
    """Create missing usage rows; concurrent creators are fine (ON CONFLICT DO NOTHING)."""
    existing = set(
        QuotaUsage.objects.filter(project_id=project_id, resource__in=resources).values_list(
            "resource", flat=True
        )
    )
    missing = [r for r in sorted(resources) if r not in existing]
    if missing:
        QuotaUsage.objects.bulk_create(
            [QuotaUsage(project_id=project_id, resource=r) for r in missing], ignore_conflicts=True
        )


def _lock_usages(project_id: str, resources) -> dict:
    """{resource: QuotaUsage} locked FOR UPDATE, always in resource-name order.

    Must run inside a transaction."""
    resources = sorted(set(resources))
    _ensure_usage_rows(project_id, resources)
    rows = (
        QuotaUsage.objects.select_for_update()
        .filter(project_id=project_id, resource__in=resources)
        .order_by("resource")
    )
    return {row.resource: row for row in rows}


def usage_refresh(project, resource: str, actual: int) -> tuple[int, int]:
    """Set in_use to the real count (reconciliation). Returns (old, new) in_use."""
    _check_resource(resource)
    if isinstance(actual, bool) or not isinstance(actual, int) or actual < 0:
        raise InvalidQuotaValue(f"Actual usage of {resource} must be a non-negative integer.")
    with transaction.atomic():
        usage = _lock_usages(_project_id(project), [resource])[resource]
        old = usage.in_use
        if old != actual:
            usage.in_use = actual
            usage.save(update_fields=["in_use", "updated_at"])
            log.info("quota usage of %s.%s refreshed: %d -> %d", usage.project_id, resource, old, actual)
    return old, actual


# --- reservations --------------------------------------------------------------------------


def _expires_at(expire) -> datetime:
    now = timezone.now()
    if expire is None:
        return now + timedelta(seconds=getattr(settings, "RESERVATION_EXPIRE", 86400))
    if isinstance(expire, datetime):
        return expire
    if isinstance(expire, timedelta):
        return now + expire
    if isinstance(expire, (int, float)) and not isinstance(expire, bool):
        return now + timedelta(seconds=expire)
    raise InvalidQuotaValue(f"Invalid reservation expiry {expire!r}.")


def _checked_deltas(deltas: dict) -> dict:
    _check_resources(deltas)
    for resource, delta in deltas.items():
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise InvalidQuotaValue(f"Delta for {resource} must be an integer, got {delta!r}.")
    return {r: d for r, d in deltas.items() if d != 0}


def _locked_within_limits(project_id: str, deltas: dict, user_id=None) -> dict:
    """The usage rows of `deltas` locked (inside a transaction); OverQuota if a positive
    delta does not fit beside what is in use and reserved, or in the user's own limits."""
    usages = _lock_usages(project_id, deltas)
    # read after the lock: set_quotas takes it too
    quotas, user_limits = _limits(project_id, any(_is_per_type(r) for r in deltas), user_id)
    used = {r: usages[r].in_use + usages[r].reserved for r in deltas}
    overs = [r for r, d in deltas.items() if d > 0 and quotas[r] != UNLIMITED and used[r] + d > quotas[r]]
    if overs:
        raise OverQuota(overs, quotas, used, deltas)
    _check_user(project_id, user_id, user_limits, deltas)
    return usages


def reserve(project, deltas: dict, expire=None, user_id: str | None = None) -> str:
    """Reserve `deltas` ({resource: +-n}) for the project; returns the reservation uuid.

    Raises OverQuota (nothing reserved) if a positive delta does not fit."""
    deltas = _checked_deltas(deltas)
    project_id = _project_id(project)
    reservation_uuid = uuid_lib.uuid4()
    expires_at = _expires_at(expire)
    if not deltas:
        return str(reservation_uuid)
    with transaction.atomic():
        usages = _locked_within_limits(project_id, deltas, user_id)
        for resource in sorted(deltas):
            usage, delta = usages[resource], deltas[resource]
            Reservation.objects.create(
                uuid=reservation_uuid, usage=usage, delta=delta, expires_at=expires_at
            )
            if delta > 0:
                usage.reserved += delta
                usage.save(update_fields=["reserved", "updated_at"])
    return str(reservation_uuid)


def consume(project, deltas: dict, user_id: str | None = None) -> None:
    """`commit(reserve(project, deltas))` in one step, for a caller whose resources are
    created in the same transaction (POST /servers): the usage rows are locked, checked and
    moved in one UPDATE, with no reservation rows. OverQuota (nothing changed) as reserve."""
    deltas = _checked_deltas(deltas)
    if not deltas:
        return
    with transaction.atomic():
        usages = _locked_within_limits(_project_id(project), deltas, user_id)
        now = timezone.now()
        for resource, delta in deltas.items():
            usage = usages[resource]
            usage.in_use = max(0, usage.in_use + delta)
            usage.updated_at = now
        QuotaUsage.objects.bulk_update([usages[r] for r in sorted(deltas)], ["in_use", "updated_at"])


def _parse_uuid(reservation_uuid) -> uuid_lib.UUID:
    try:
        return uuid_lib.UUID(str(reservation_uuid))
    except ValueError:
        raise ReservationNotFound(f"Reservation {reservation_uuid} could not be found.") from None


def _finish(reservation_uuid, apply) -> None:
    """Lock the reservation's rows, then its usage rows (resource order), apply, delete."""
    key = _parse_uuid(reservation_uuid)
    with transaction.atomic():
        reservations = list(Reservation.objects.select_for_update().filter(uuid=key).order_by("id"))
        if not reservations:
            raise ReservationNotFound(f"Reservation {reservation_uuid} could not be found.")
        usage_ids = [r.usage_id for r in reservations]
        usages = {
            u.id: u
            for u in QuotaUsage.objects.select_for_update().filter(id__in=usage_ids).order_by("resource")
        }
        for reservation in reservations:
            usage = usages[reservation.usage_id]
            apply(usage, reservation.delta)
            if usage.reserved < 0:
                log.warning("quota %s.%s: reserved went negative; clamped", usage.project_id, usage.resource)
                usage.reserved = 0
            if usage.in_use < 0:
                log.warning("quota %s.%s: in_use went negative; clamped", usage.project_id, usage.resource)
                usage.in_use = 0
            usage.save(update_fields=["in_use", "reserved", "updated_at"])
        Reservation.objects.filter(id__in=[r.id for r in reservations]).delete()


def commit(reservation_uuid) -> None:
    """Make a reservation real: its deltas move from reserved into in_use."""

    def apply(usage, delta):
        if delta > 0:
            usage.reserved -= delta
        usage.in_use += delta

    _finish(reservation_uuid, apply)


def rollback(reservation_uuid) -> None:
    """Cancel a reservation: positive deltas are given back."""

    def apply(usage, delta):
        if delta > 0:
            usage.reserved -= delta

    _finish(reservation_uuid, apply)


def expire_reservations(now=None) -> int:
    """Roll back every reservation past its expiry; returns how many were rolled back."""
    now = now or timezone.now()
    keys = list(
        Reservation.objects.filter(expires_at__lte=now).values_list("uuid", flat=True).distinct()
    )
    expired = 0
    for key in keys:
        try:
            rollback(key)
        except ReservationNotFound:
            continue  # committed or rolled back meanwhile
        expired += 1
        log.info("quota reservation %s expired and was rolled back", key)
    return expired
