"""Floating IPs as the Networking API v2.0 (`/network/v2.0/floatingips`) shows them.

    create(ctx, network_id, port_id=None, fixed_ip_address=None, floating_ip_address=None,
           description="", project_id=None) -> FloatingIP
    update(ctx, row, changes) -> FloatingIP     {"port_id", "fixed_ip_address", "description"}
    delete(ctx, row)                             disassociated first, back to its pool
    get(ctx, floatingip_id) / visible(ctx)       another project's: not found (admins: any)
    status(row) / find_port(ctx, port_id)

An external network is a floating pool (floating.services.pools); a port is one fixed address
of a server (network.services.ports). Associating by port = the port's server + its fixed
address (floating.services.addresses does the locking and tells the NAT host). `status` is
ACTIVE once the NAT host reported the current association applied (floating.services.host
records it), DOWN otherwise. Errors carry Neutron's type names (their class names).
"""
import ipaddress
import uuid as uuid_lib

from django.db import transaction
from django.utils import timezone

from compute.models import Instance
from identity.services import quotas
from network.models import FixedIP, Network

from ..models import FloatingIP
from . import FloatingConflict, FloatingError, FloatingNotFound, InvalidFloating, addresses, pools
from . import FloatingOverQuota as _NovaOverQuota

ACTIVE, DOWN = "ACTIVE", "DOWN"
MAX_DESCRIPTION = 255


class BadRequest(InvalidFloating):
    pass


class NetworkNotFound(FloatingNotFound):
    pass


class PortNotFound(FloatingNotFound):
    pass


class FloatingIPNotFound(FloatingNotFound):
    pass


class ExternalIpAddressExhausted(FloatingConflict):
    pass


class IpAddressAlreadyAllocated(FloatingConflict):
    pass


class FloatingIPPortAlreadyAssociated(FloatingConflict):
    pass


class InvalidIpForNetwork(InvalidFloating):
    pass


class FloatingIPOverQuota(_NovaOverQuota):
    """Over the `floating_ips` quota (the Networking API's `floatingip`): 409 OverQuota."""

    code = 409


class PolicyNotAuthorized(FloatingError):
    code = 403


# --- lookups ----------------------------------------------------------------------------------


def _is_admin(ctx) -> bool:
    return bool(getattr(ctx, "is_admin", False))


def _uuid(value, field: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for {field}. Reason: '{value}' is not a valid UUID.")
    try:
        return str(uuid_lib.UUID(value.strip()))
    except ValueError:
        raise BadRequest(f"Invalid input for {field}. Reason: '{value}' is not a valid UUID.") from None


def _ipv4(value, field: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for {field}. Reason: '{value}' is not a valid IP address.")
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise BadRequest(f"Invalid input for {field}. Reason: '{value}' is not a valid IP address.") from None


def visible(ctx):
    """The allocated floating IPs the context sees: its project's; an admin's, every project's."""
    qs = FloatingIP.objects.filter(project__isnull=False).select_related("fixed_ip").order_by("id")
    return qs if _is_admin(ctx) else qs.filter(project_id=ctx.project_id)


def get(ctx, floatingip_id) -> FloatingIP:
    try:
        key = str(uuid_lib.UUID(str(floatingip_id)))
    except ValueError:
        key = None
    row = visible(ctx).filter(uuid=key).first() if key else None
    if row is None:
        raise FloatingIPNotFound(f"Floating IP {floatingip_id} could not be found")
    return row


def pool_of(network_id) -> str:
    """The pool of an external network id: 404 for an unknown network, 400 for a fixed one."""
    text = _uuid(network_id, "floating_network_id")
    pool = pools.pool_of_network(text)
    if pool is not None:
        return pool
    if Network.objects.filter(uuid=text).exists():
        raise BadRequest(f"Bad floatingip request: Network {text} is not a valid external network.")
    raise NetworkNotFound(f"Network {text} could not be found.")


def status(row: FloatingIP) -> str:
    return ACTIVE if (row.instance_uuid is not None and row.fixed_ip_id is not None and row.nat_applied) else DOWN


def find_port(ctx, port_id):
    """(port, its server) for a port the context may use: another project's port is not found
    (admins: any). A port is one fixed address of a server (network.services.ports)."""
    from network.services import ports  # the Networking API's ports

    text = _uuid(port_id, "port_id")
    port = ports.find_port(text)
    instance = None
    if port is not None and port.instance_uuid:
        instance = Instance.objects.filter(uuid=port.instance_uuid).first()
    if instance is None or not (_is_admin(ctx) or str(instance.project_id) == str(ctx.project_id)):
        raise PortNotFound(f"Port {text} could not be found.")
    return port, instance


# --- create / update / delete -----------------------------------------------------------------


def _description(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise BadRequest(f"Invalid input for description. Reason: a string of at most {MAX_DESCRIPTION} "
                         "characters is required.")
    return value


def _project(ctx, project_id) -> str:
    if project_id in (None, "") or str(project_id) == str(ctx.project_id):
        return ctx.project_id
    if not _is_admin(ctx):
        raise PolicyNotAuthorized("Policy doesn't allow create_floatingip:project_id to be performed.")
    from identity.models import Project

    if not Project.objects.filter(pk=project_id).exists():
        raise BadRequest(f"Invalid input for project_id. Reason: project {project_id} does not exist.")
    return project_id


def _lock_port(port, instance) -> FixedIP:
    """Lock the port's server, then its fixed address (the order a server delete takes)."""
    Instance.all_objects.select_for_update().filter(pk=instance.pk).first()
    fixed = (FixedIP.objects.select_for_update(of=("self",))
             .filter(address=str(port.address), instance_uuid=instance.uuid).first())
    if fixed is None:
        raise PortNotFound(f"Port {port.id} could not be found.")
    return fixed


def _check_fixed_address(port, fixed_ip_address) -> None:
    if fixed_ip_address is None:
        return
    wanted = _ipv4(fixed_ip_address, "fixed_ip_address")
    if wanted != str(port.address):
        raise BadRequest(f"Bad floatingip request: Port {port.id} does not have fixed ip {wanted}.")


def _check_port_free(fixed: FixedIP, instance, row: FloatingIP | None, port_id) -> None:
    """409 when the port's fixed address already has another floating IP (one per fixed address)."""
    taken = FloatingIP.objects.filter(fixed_ip=fixed, instance_uuid=instance.uuid)
    if row is not None:
        taken = taken.exclude(pk=row.pk)
    other = taken.first()
    if other is not None:
        what = f"floating IP {row.address} ({row.uuid})" if row is not None else "a floating IP"
        raise FloatingIPPortAlreadyAssociated(
            f"Cannot associate {what} with port {port_id} using fixed IP {fixed.address}, as that fixed IP already "
            f"has a floating IP on external network {pools.pool_network_id(other.pool)}.")


def _allocate(ctx, pool: str, project_id, address: str | None) -> FloatingIP:
    """A free address of `pool` (or exactly `address`) for `project_id`, quota `floating_ips`."""
    try:
        reservation = quotas.reserve(project_id, {addresses.RESOURCE: 1})
    except quotas.OverQuota as exc:
        raise FloatingIPOverQuota(
            f"Quota exceeded for resources: ['floatingip'] (limit {exc.quotas[addresses.RESOURCE]}, "
            f"used {exc.usages[addresses.RESOURCE]}).") from None
    free = FloatingIP.objects.select_for_update(skip_locked=address is None).filter(pool=pool)
    if address is not None:
        row = free.filter(address=address).first()
        if row is None:
            raise InvalidIpForNetwork(f"IP address {address} is not a valid IP for the specified network.")
        if row.project_id is not None:
            raise IpAddressAlreadyAllocated(f"IP address {address} already allocated in network "
                                            f"{pools.pool_network_id(pool)}.")
    else:
        row = free.filter(project__isnull=True).order_by("id").first()
        if row is None:
            raise ExternalIpAddressExhausted(f"Unable to find any IP address on external network "
                                             f"{pools.pool_network_id(pool)}.")
    row.project_id = project_id
    row.allocated_at = timezone.now()
    row.auto_assigned = False
    row.revision_number = 0
    row.save(update_fields=["project", "allocated_at", "auto_assigned", "revision_number", "updated_at"])
    quotas.commit(reservation)
    return row


def create(ctx, network_id, port_id=None, fixed_ip_address=None, floating_ip_address=None, description=None,
           project_id=None) -> FloatingIP:
    """Allocate from the pool of `network_id`; with `port_id`, associate in the same transaction
    (a failure leaves nothing allocated)."""
    pool = pool_of(network_id)
    description = _description(description)
    address = None
    if floating_ip_address is not None:
        if not _is_admin(ctx):
            raise PolicyNotAuthorized("Policy doesn't allow create_floatingip:floating_ip_address to be "
                                      "performed.")
        address = _ipv4(floating_ip_address, "floating_ip_address")
    if fixed_ip_address is not None and port_id is None:
        raise BadRequest("Bad floatingip request: fixed_ip_address requires port_id.")
    project = _project(ctx, project_id)
    port = instance = None
    if port_id is not None:
        port, instance = find_port(ctx, port_id)
        _check_fixed_address(port, fixed_ip_address)
    with transaction.atomic():
        if port is not None:
            _check_port_free(_lock_port(port, instance), instance, None, port.id)
        row = _allocate(ctx, pool, project, address)
        if description:
            row.description = description
            row.save(update_fields=["description", "revision_number", "updated_at"])
        if port is not None:
            row = _associate(ctx, row, instance, port)
    return row


def _associate(ctx, row: FloatingIP, instance, port) -> FloatingIP:
    try:
        return addresses.associate(_AsOwner(ctx, row), instance, row.address, fixed_address=str(port.address))
    except InvalidFloating as exc:
        raise BadRequest(f"Bad floatingip request: {exc.message}") from None


class _AsOwner:
    """The context addresses.associate checks visibility with (the row's own project: the
    Networking API already checked the caller may see it)."""

    def __init__(self, ctx, row):
        self.project_id = row.project_id
        self.is_admin = _is_admin(ctx)


_UNSET = object()


def update(ctx, row: FloatingIP, port_id=_UNSET, fixed_ip_address=None, description=_UNSET) -> FloatingIP:
    """PUT: `port_id` associates (another port: moves it; None: disassociates); `description`."""
    if description is not _UNSET:
        description = _description(description)
    port = instance = None
    if port_id is not _UNSET and port_id is not None:
        port, instance = find_port(ctx, port_id)
        _check_fixed_address(port, fixed_ip_address)
    elif fixed_ip_address is not None:
        raise BadRequest("Bad floatingip request: fixed_ip_address requires port_id.")
    with transaction.atomic():
        if port is not None:
            fixed = _lock_port(port, instance)
            _check_port_free(fixed, instance, row, port.id)
        locked = FloatingIP.objects.select_for_update().filter(pk=row.pk, project_id=row.project_id).first()
        if locked is None:
            raise FloatingIPNotFound(f"Floating IP {row.uuid} could not be found")
        if description is not _UNSET and description != locked.description:
            locked.description = description
            locked.save(update_fields=["description", "updated_at"])
        if port is not None:
            locked = _associate(ctx, locked, instance, port)
        elif port_id is None:
            addresses.send_sync(addresses.clear_association(locked))
    return FloatingIP.objects.select_related("fixed_ip").get(pk=row.pk)


def delete(ctx, row: FloatingIP) -> None:
    try:
        addresses.release(_AsOwner(ctx, row), row)
    except FloatingNotFound:
        raise FloatingIPNotFound(f"Floating IP {row.uuid} could not be found") from None
