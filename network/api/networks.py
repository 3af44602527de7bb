"""nova-network calls of the compute API: /os-networks (list, show, create, delete, add,
{id}/action disassociate / disassociate_project / disassociate_host / associate_host).

OSC, with no network endpoint in the catalog, resolves `--nic net-id=NAME` through
GET /os-networks/{name_or_id}, then GET /os-networks matching `label`.
Non-admins see shared networks and their project's own, with nova's non-admin fields.
"""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.api.base import PROXY_REMOVED_IN, ComputeAPIView, parse_bool, parse_int, parse_string
from identity.models import Project
from identity.services.policy import enforce
from network.services import networks as svc
from network.services import vlan as vlan_svc

NON_ADMIN_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
                    "gateway_v6", "label", "netmask_v6")
CREATE_FIELDS = {"label", "cidr", "bridge", "bridge_interface", "dns1", "dns2", "multi_host",
                 "project_id", "mtu", "host", "cidr_v6", "vlan_start", "vpn_start", "gateway", "priority",
                 "enable_dhcp", "share_address", "fixed_cidr", "allowed_start", "allowed_end", "dhcp_server",
                 "num_networks", "network_size"}  # the last two: nova-manage's, an extension here
UNSUPPORTED = {"cidr_v6", "vpn_start", "gateway", "fixed_cidr", "allowed_start", "allowed_end",
               "dhcp_server"}


def _time(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def network_dict(network, is_admin: bool) -> dict:
    body = {
        "id": str(network.uuid),
        "label": network.label,
        "cidr": network.cidr,
        "netmask": network.netmask,
        "gateway": network.gateway,
        "broadcast": network.broadcast,
        "dhcp_start": network.dhcp_start,
        "dhcp_server": network.gateway,
        "dns1": network.dns1,
        "dns2": network.dns2,
        "bridge": network.bridge,
        "bridge_interface": network.bridge_interface or None,
        "multi_host": network.multi_host,
        "project_id": network.project_id,
        "vlan": network.vlan,
        "host": network.host,
        "mtu": network.mtu,
        "cidr_v6": None,
        "gateway_v6": None,
        "netmask_v6": None,
        "enable_dhcp": not network.injected,
        "share_address": False,
        "injected": network.injected,
        "priority": None,
        "rxtx_base": None,
        "vpn_private_address": None,
        "vpn_public_address": None,
        "vpn_public_port": None,
        "created_at": _time(network.created_at),
        "updated_at": _time(network.updated_at),
        "deleted_at": _time(network.deleted_at),
        "deleted": network.deleted_at is not None,
    }
    if not is_admin:
        body = {key: body[key] for key in NON_ADMIN_FIELDS}
    return body


class NetworkCollection(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:networks:list")
        networks = svc.visible_networks(ctx.project_id, ctx.is_admin).order_by("id")
        return Response({"networks": [network_dict(n, ctx.is_admin) for n in networks]})

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:networks:create")
        data = self.body("network", allowed=CREATE_FIELDS, required={"label", "cidr"})
        for key in UNSUPPORTED:
            if data.get(key) not in (None, ""):
                raise BadRequest(f"Invalid input for field/attribute network: {key} is not supported")
        project = None
        if data.get("project_id"):
            project = Project.objects.filter(pk=parse_string(data["project_id"], "project_id")).first()
            if project is None:
                raise BadRequest(f"Project {data['project_id']} could not be found.")
        optional = {}
        for key in ("bridge", "bridge_interface", "dns1", "dns2", "host"):
            if data.get(key) not in (None, ""):
                optional[key] = parse_string(data[key], key)
        label, cidr = parse_string(data["label"], "label"), parse_string(data["cidr"], "cidr")
        optional.update(
            multi_host=parse_bool(data.get("multi_host", False), "multi_host"),
            mtu=parse_int(data["mtu"], "mtu", 576, 9000) if data.get("mtu") is not None else None,
            project=project,
        )
        if data.get("enable_dhcp") is not None:  # nova's: false makes a Flat (injected) network
            optional["injected"] = not parse_bool(data["enable_dhcp"], "enable_dhcp")
        count = parse_int(data["num_networks"], "num_networks", 1, 4094) if data.get("num_networks") else 1
        size = parse_int(data["network_size"], "network_size", 4, 1 << 16) if data.get("network_size") else None
        if data.get("vlan_start") not in (None, ""):
            created = vlan_svc.create_vlan_networks(
                label, cidr, vlan_start=parse_int(data["vlan_start"], "vlan_start", 1, 4094),
                num_networks=count, network_size=size, **optional)
        else:
            created = [svc.create_network(label, cidr, num_networks=count, network_size=size, **optional)]
        body = {"network": network_dict(created[0], True)}
        if len(created) > 1:
            body["networks"] = [network_dict(n, True) for n in created]
        return Response(body)


class NetworkItem(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request, network_id):
        ctx = self.ctx
        enforce(ctx, "compute:networks:show")
        network = svc.get_network(network_id, ctx.project_id, ctx.is_admin)
        return Response({"network": network_dict(network, ctx.is_admin)})

    def delete(self, request, network_id):
        ctx = self.ctx
        enforce(ctx, "compute:networks:delete")
        svc.delete_network(svc.get_network(network_id))
        return Response(status=202)


class NetworkAdd(ComputeAPIView):
    """POST /os-networks/add {"id": network}: associate it with the caller's project
    ({"id": null}: the next free VLAN network, as the VLAN manager does on first use)."""
    removed_in = PROXY_REMOVED_IN

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:networks:associate")
        data = request.data
        if not isinstance(data, dict) or "id" not in data or set(data) - {"id"}:
            raise BadRequest("Invalid input: 'id' is a required property (and the only one).")
        if not ctx.project_id:
            raise BadRequest("A project-scoped token is required to associate a network.")
        if data["id"] in (None, ""):
            vlan_svc.network_for_project(ctx.project_id)
        else:
            vlan_svc.associate(svc.get_network(parse_string(data["id"], "id")), ctx.project_id)
        return Response(status=202)


class NetworkAction(ComputeAPIView):
    """POST /os-networks/{id}/action: disassociate, disassociate_project, disassociate_host,
    associate_host (nova's os-networks and os-networks-associate actions)."""
    removed_in = PROXY_REMOVED_IN

    ACTIONS = {"disassociate", "disassociate_project", "disassociate_host", "associate_host"}

    def post(self, request, network_id):
        ctx = self.ctx
        enforce(ctx, "compute:networks:disassociate")
        data = request.data
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in self.ACTIONS:
            raise BadRequest(f"Invalid input: exactly one of {', '.join(sorted(self.ACTIONS))} is expected.")
        action, value = next(iter(data.items()))
        if action == "associate_host":
            enforce(ctx, "compute:networks:associate")
        network = svc.get_network(network_id)
        if action in ("disassociate", "disassociate_project"):
            vlan_svc.disassociate(network)
        if action in ("disassociate", "disassociate_host"):
            vlan_svc.set_host(network, None)
        if action == "associate_host":
            vlan_svc.set_host(network, parse_string(value, "associate_host"))
        return Response(status=202)
