"""Networks and subnets of the Networking API v2.0 over nova-network.

GET /v2.0/networks[/{id}] lists what the caller may use: shared networks (no project), the
project's own, and every floating pool as an external network (`router:external` true, shared
false, named after the pool, with an id derived from the pool's name: floating.services.pools;
it has NO subnet, its addresses are the pool's, only floating IPs are allocated from it).
Filters, `fields`, sorting and `limit`/`marker`: cloudproj.api.neutron.list_response.

POST/PUT/DELETE are for admins (a member's is a 403). `openstack network create n1` then
`openstack subnet create --network n1 --subnet-range 10.x.y.0/24 s1` leaves a working
nova-network network: the POST of the network records it (no subnet yet), the POST of its
subnet creates nova-network's network of that CIDR under the same id, for the network manager
in use (see network.services.neutron for the mapping: bridge, VLAN, DHCP, gateway, pools).
One subnet per network, its id derived from the network's; DELETE of the network removes the
subnet too (409 NetworkInUse while a server holds one of its addresses).

`provider:network_type` (flat or vlan), `provider:physical_network` and
`provider:segmentation_id` (the VLAN) are shown to admins only, as Neutron's policy does.
"""
import ipaddress

from rest_framework.response import Response

from cloudproj.api.neutron import (NeutronAPIView, bad_request, list_response, not_found, parse_bool,
                                   show_response, timestamp)
from floating.services import pools
from identity.models import Project
from identity.services.policy import enforce
from network.models import Network, PendingNetwork
from network.services import NetworkNotFound
from network.services import neutron as svc
from network.services.managers import is_vlan

NETWORK_CREATE = {"name", "admin_state_up", "shared", "project_id", "tenant_id", "description", "mtu",
                  "provider:network_type", "provider:physical_network", "provider:segmentation_id",
                  "router:external"}
NETWORK_UPDATE = {"name", "description", "admin_state_up"}
SUBNET_CREATE = {"name", "network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp", "dns_nameservers",
                 "allocation_pools", "host_routes", "project_id", "tenant_id", "description", "subnetpool_id",
                 "prefixlen", "ipv6_ra_mode", "ipv6_address_mode", "service_types", "use_default_subnet_pool"}
SUBNET_UPDATE = {"name", "description"}


def network_dict(network, is_admin: bool) -> dict:
    pending = isinstance(network, PendingNetwork)
    vlan = network.vlan
    body = {
        "id": str(network.uuid),
        "name": network.label,
        "status": "ACTIVE",
        "subnets": [] if pending else [svc.subnet_id(network)],
        "shared": network.project_id is None and (pending or vlan is None),
        "router:external": False,
        "admin_state_up": True,
        "mtu": network.mtu or svc.DEFAULT_MTU,
        "project_id": network.project_id,
        "tenant_id": network.project_id,
        "description": network.description,
        "created_at": timestamp(network.created_at),
        "updated_at": timestamp(network.updated_at),
    }
    if is_admin:
        vlan_type = vlan is not None or (pending and is_vlan())
        body.update({
            "provider:network_type": "vlan" if vlan_type else "flat",
            "provider:physical_network": None if vlan_type else "physnet1",
            "provider:segmentation_id": vlan,
        })
    return body


def external_network_dict(network_id: str, pool: str, is_admin: bool) -> dict:
    body = {
        "id": network_id, "name": pool, "status": "ACTIVE", "subnets": [], "shared": False,
        "router:external": True, "admin_state_up": True, "mtu": svc.DEFAULT_MTU, "project_id": None,
        "tenant_id": None, "description": f"floating IP pool {pool}", "created_at": None, "updated_at": None,
    }
    if is_admin:
        body.update({"provider:network_type": "flat", "provider:physical_network": "public",
                     "provider:segmentation_id": None})
    return body


def subnet_dict(network: Network) -> dict:
    return {
        "id": svc.subnet_id(network),
        "name": network.subnet_name,
        "network_id": str(network.uuid),
        "project_id": network.project_id,
        "tenant_id": network.project_id,
        "cidr": network.cidr,
        "ip_version": 4,
        "gateway_ip": network.gateway,
        "allocation_pools": [{"start": network.dhcp_start, "end": network.dhcp_end}],
        "enable_dhcp": not network.injected,
        "dns_nameservers": [d for d in (network.dns1, network.dns2) if d],
        "host_routes": [],
        "description": "",
        "ipv6_ra_mode": None,
        "ipv6_address_mode": None,
        "subnetpool_id": None,
        "created_at": timestamp(network.created_at),
        "updated_at": timestamp(network.updated_at),
    }


def all_networks(ctx) -> list[dict]:
    items = [network_dict(n, ctx.is_admin) for n in svc.networks(ctx.project_id, ctx.is_admin)]
    items += [external_network_dict(nid, pool, ctx.is_admin)
              for nid, pool in sorted(pools.external_networks().items(), key=lambda item: item[1])]
    return items


def _find(ctx, network_id) -> dict:
    for item in all_networks(ctx):
        if item["id"] == str(network_id):
            return item
    raise not_found(f"Network {network_id} could not be found.", "NetworkNotFound")


def _text(data: dict, key: str, max_length: int = 255) -> str | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, str) or len(value) > max_length:
        raise bad_request(f"Invalid input for {key}. Reason: '{value}' is not a valid string of at most "
                          f"{max_length} characters.", "InvalidInput")
    return value


def _int(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"Invalid input for {key}. Reason: '{value}' is not an integer.", "InvalidInput")
    return value


def _admin_state(data: dict) -> None:
    if "admin_state_up" in data and not parse_bool(data["admin_state_up"], "admin_state_up"):
        raise bad_request("admin_state_up false is not supported: nova-network networks are always up.",
                          "InvalidInput")


class NetworkCollection(NeutronAPIView):
    def get(self, request):
        enforce(self.ctx, "network:get_network")
        return list_response(request, "networks", all_networks(self.ctx))

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "network:create_network")
        data = self.body("network", allowed=NETWORK_CREATE)
        _admin_state(data)
        if "router:external" in data and parse_bool(data["router:external"], "router:external"):
            raise bad_request("External networks are the floating IP pools: an operator creates them with "
                              "`cloudproj-manage floating create`, not through this API.", "InvalidInput")
        network_type = data.get("provider:network_type")
        if network_type not in (None, "flat", "vlan"):
            raise bad_request(f"provider:network_type {network_type!r} is not supported (flat or vlan).",
                              "InvalidInput")
        if network_type is not None and (network_type == "vlan") != is_vlan():
            raise bad_request(f"provider:network_type {network_type} does not match this cloud's network "
                              f"manager ({'vlan' if is_vlan() else 'flat'}).", "InvalidInput")
        shared = parse_bool(data.get("shared", False), "shared")
        project_id = _text(data, "project_id") or _text(data, "tenant_id") or ctx.project_id
        project = None
        if not shared and project_id:
            project = Project.objects.filter(pk=project_id).first()
            if project is None:
                raise bad_request(f"Project {project_id} could not be found.", "InvalidInput")
        pending = svc.create_network(
            _text(data, "name") or "", project=project, description=_text(data, "description") or "",
            mtu=_int(data, "mtu"), vlan=_int(data, "provider:segmentation_id"))
        return Response({"network": network_dict(pending, ctx.is_admin)}, status=201)


class NetworkItem(NeutronAPIView):
    def get(self, request, network_id):
        enforce(self.ctx, "network:get_network")
        return show_response(request, "network", _find(self.ctx, network_id))

    def _network(self, network_id):
        try:
            return svc.find_network(network_id, self.ctx.project_id, self.ctx.is_admin)
        except NetworkNotFound:
            if str(network_id) in pools.external_networks():
                raise bad_request("External networks are the floating IP pools: an operator manages them "
                                  "with `cloudproj-manage floating`.", "InvalidInput") from None
            raise

    def put(self, request, network_id):
        ctx = self.ctx
        enforce(ctx, "network:update_network")
        data = self.body("network", allowed=NETWORK_UPDATE)
        _admin_state(data)
        network = svc.update_network(self._network(network_id), name=_text(data, "name"),
                                     description=_text(data, "description"))
        return Response({"network": network_dict(network, ctx.is_admin)})

    def delete(self, request, network_id):
        enforce(self.ctx, "network:delete_network")
        svc.delete_network(self._network(network_id))
        return Response(status=204)


class SubnetCollection(NeutronAPIView):
    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "network:get_subnet")
        items = [subnet_dict(n) for n in svc.networks(ctx.project_id, ctx.is_admin) if isinstance(n, Network)]
        return list_response(request, "subnets", items)

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "network:create_subnet")
        data = self.body("subnet", allowed=SUBNET_CREATE, required={"network_id"})
        for key in ("subnetpool_id", "prefixlen", "ipv6_ra_mode", "ipv6_address_mode"):
            if data.get(key) is not None:
                raise bad_request(f"{key} is not supported: give the subnet's cidr.", "InvalidInput")
        if data.get("use_default_subnet_pool") or data.get("host_routes") or data.get("service_types"):
            raise bad_request("subnet pools, host routes and service types are not supported.", "InvalidInput")
        ip_version = _int(data, "ip_version") or 4
        if ip_version != 4:
            raise bad_request("Only IPv4 subnets are supported: this cloud's networks are nova-network's.",
                              "InvalidInput")
        cidr = _text(data, "cidr")
        if not cidr:
            raise bad_request("Failed to parse request. Required attribute 'cidr' not specified", "HTTPBadRequest")
        try:
            ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            raise bad_request(f"Invalid input for cidr. Reason: '{cidr}' is not a valid IPv4 subnet.",
                              "InvalidInput") from None
        dns = data.get("dns_nameservers")
        if dns is not None and not isinstance(dns, list):
            raise bad_request("Invalid input for dns_nameservers: a list is expected.", "InvalidInput")
        pools_ = data.get("allocation_pools")
        if pools_ is not None and not isinstance(pools_, list):
            raise bad_request("Invalid input for allocation_pools: a list is expected.", "InvalidInput")
        gateway = data.get("gateway_ip", "")
        enable_dhcp = parse_bool(data["enable_dhcp"], "enable_dhcp") if "enable_dhcp" in data else None
        network = svc.create_subnet(
            data["network_id"], cidr, ctx.project_id, ctx.is_admin, name=_text(data, "name") or "",
            gateway_ip=gateway, enable_dhcp=enable_dhcp, dns_nameservers=dns, allocation_pools=pools_)
        return Response({"subnet": subnet_dict(network)}, status=201)


class SubnetItem(NeutronAPIView):
    def get(self, request, subnet_id):
        ctx = self.ctx
        enforce(ctx, "network:get_subnet")
        return show_response(request, "subnet", subnet_dict(svc.find_subnet(subnet_id, ctx.project_id,
                                                                          ctx.is_admin)))

    def put(self, request, subnet_id):
        ctx = self.ctx
        enforce(ctx, "network:update_subnet")
        data = self.body("subnet", allowed=SUBNET_UPDATE)
        network = svc.find_subnet(subnet_id, ctx.project_id, ctx.is_admin)
        return Response({"subnet": subnet_dict(svc.update_subnet(network, name=_text(data, "name")))})

    def delete(self, request, subnet_id):
        ctx = self.ctx
        enforce(ctx, "network:delete_subnet")
        network = svc.find_subnet(subnet_id, ctx.project_id, ctx.is_admin)
        raise svc.SubnetInUse(f"Unable to complete operation on subnet {subnet_id}: a nova-network network "
                              f"has exactly one subnet; delete its network {network.uuid} instead.")
