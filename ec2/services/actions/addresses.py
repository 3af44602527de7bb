"""Elastic IPs: Allocate/Associate/Disassociate/Release/DescribeAddresses over
floating.services.addresses (the project's floating IPs, quota `floating_ips`, NAT by the
host serving the instance's network). allocationId and associationId name the floating IP's
row: `eipalloc-`/`eipassoc-` and its key in hex."""
import ipaddress

from compute.models import Instance
from ec2.services import filters, ids
from ec2.services.errors import Ec2Error, from_cloud_error
from ec2.services.params import Params
from floating.models import FloatingIP
from floating.services import FloatingOverQuota, NoMoreFloatingIps, addresses
from identity.services.policy import enforce
from cloudproj.exceptions import CloudError

from .instances import get as get_instance


def _address(value: str, name: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise Ec2Error("InvalidParameterValue", f"Value ({value[:64]}) for parameter {name} is invalid.") from None


def _find(ctx, p: Params, id_name: str, prefix: str) -> FloatingIP:
    rows = FloatingIP.objects.filter(project_id=ctx.project_id).select_related("fixed_ip")
    public_ip = p.text("PublicIp", max_length=64)
    value = p.text(id_name, max_length=64)
    if public_ip is not None:
        row = rows.filter(address=_address(public_ip, "PublicIp")).first()
        if row is None:
            raise Ec2Error("InvalidAddress.NotFound", f"Address '{public_ip}' not found.")
        return row
    if value is None:
        raise Ec2Error("MissingParameter", f"The request must contain the parameter PublicIp or {id_name}")
    row = rows.filter(pk=ids.key_of(value, prefix)).first()
    if row is None:
        code = "InvalidAllocationID.NotFound" if prefix == "eipalloc" else "InvalidAssociationID.NotFound"
        raise Ec2Error(code, f"The {id_name[0].lower() + id_name[1:]} '{value}' does not exist")
    return row


def allocate_address(ctx, p: Params) -> dict:
    p.text("Domain", choices=("standard", "vpc"))
    pool = p.text("PublicIpv4Pool")
    enforce(ctx, "compute:floating_ips:create", {"project_id": ctx.project_id})
    try:
        row = addresses.allocate(ctx, pool)
    except FloatingOverQuota as exc:
        raise Ec2Error("AddressLimitExceeded", exc.message) from None
    except NoMoreFloatingIps as exc:
        raise Ec2Error("InsufficientAddressCapacity", exc.message) from None
    except CloudError as exc:
        raise from_cloud_error(exc) from None
    return {"publicIp": row.address, "domain": "standard", "allocationId": ids.ec2_id("eipalloc", row.pk),
            "publicIpv4Pool": row.pool}


def associate_address(ctx, p: Params) -> dict:
    row = _find(ctx, p, "AllocationId", "eipalloc")
    instance_id = p.text("InstanceId", max_length=64)
    if instance_id is None:
        raise Ec2Error("MissingParameter", "The request must contain the parameter InstanceId")
    instance = get_instance(ctx, instance_id)
    private = p.text("PrivateIpAddress", max_length=64)
    allow = p.flag("AllowReassociation", default=True)
    enforce(ctx, "compute:floating_ips:add", {"project_id": instance.project_id})
    if row.instance_uuid is not None and row.instance_uuid != instance.uuid and not allow:
        raise Ec2Error("Resource.AlreadyAssociated", f"The address {row.address} is already associated.")
    try:
        addresses.associate(ctx, instance, row.address, _address(private, "PrivateIpAddress") if private else None)
    except CloudError as exc:
        if exc.code == 409 or "no fixed" in exc.message.lower():
            raise Ec2Error("IncorrectInstanceState", exc.message) from None
        raise from_cloud_error(exc) from None
    return {"return": True, "associationId": ids.ec2_id("eipassoc", row.pk)}


def disassociate_address(ctx, p: Params) -> dict:
    row = _find(ctx, p, "AssociationId", "eipassoc")
    enforce(ctx, "compute:floating_ips:remove", {"project_id": row.project_id})
    if row.instance_uuid is None:
        raise Ec2Error("InvalidAssociationID.NotFound", f"The address {row.address} is not associated.")
    instance = Instance.all_objects.filter(uuid=row.instance_uuid).first()
    if instance is None:
        raise Ec2Error("InvalidAssociationID.NotFound", f"The address {row.address} is not associated.")
    addresses.disassociate(ctx, instance, row.address)
    return {"return": True}


def release_address(ctx, p: Params) -> dict:
    row = _find(ctx, p, "AllocationId", "eipalloc")
    p.text("NetworkBorderGroup")
    enforce(ctx, "compute:floating_ips:delete", {"project_id": row.project_id})
    addresses.release(ctx, row)
    return {"return": True}


def _item(row: FloatingIP, instances: dict) -> dict:
    associated = row.instance_uuid is not None
    return {
        "publicIp": row.address, "allocationId": ids.ec2_id("eipalloc", row.pk), "domain": "standard",
        "instanceId": instances.get(row.instance_uuid) if associated else None,
        "associationId": ids.ec2_id("eipassoc", row.pk) if associated else None,
        "privateIpAddress": row.fixed_ip.address if associated and row.fixed_ip_id else None,
        "publicIpv4Pool": row.pool, "networkBorderGroup": None, "tagSet": [],
    }


def describe_addresses(ctx, p: Params) -> dict:
    enforce(ctx, "compute:floating_ips:list", {"project_id": ctx.project_id})
    rows = list(addresses.floating_ips_of(ctx))
    wanted_ips = [_address(v, "PublicIp") for v in p.values("PublicIp", max_length=64)]
    wanted_ids = p.values("AllocationId", max_length=64)
    if wanted_ips:
        by_ip = {r.address: r for r in rows}
        for value in wanted_ips:
            if value not in by_ip:
                raise Ec2Error("InvalidAddress.NotFound", f"Address '{value}' not found.")
        rows = [by_ip[v] for v in dict.fromkeys(wanted_ips)]
    if wanted_ids:
        by_id = {ids.ec2_id("eipalloc", r.pk): r for r in rows}
        for value in wanted_ids:
            ids.key_of(value, "eipalloc")
            if value not in by_id:
                raise Ec2Error("InvalidAllocationID.NotFound", f"The allocation ID '{value}' does not exist")
        rows = [by_id[v] for v in dict.fromkeys(wanted_ids)]
    instances = {i.uuid: i.ec2_id for i in Instance.all_objects.filter(uuid__in=[r.instance_uuid for r in rows
                                                                                 if r.instance_uuid])}
    table = {
        "public-ip": lambda r: r.address, "allocation-id": lambda r: ids.ec2_id("eipalloc", r.pk),
        "association-id": lambda r: ids.ec2_id("eipassoc", r.pk) if r.instance_uuid else None,
        "instance-id": lambda r: instances.get(r.instance_uuid), "domain": lambda r: "standard",
        "private-ip-address": lambda r: r.fixed_ip.address if r.fixed_ip_id else None,
    }
    requested = p.filters()
    if requested:
        rows = filters.apply(rows, requested, table)
    return {"addressesSet": [_item(r, instances) for r in rows]}
