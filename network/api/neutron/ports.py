"""Ports of the Networking API v2.0: one per allocated fixed address of a server
(network.services.ports). GET list/show only: ports are created by booting a server and go
away with it, so POST/PUT/DELETE answer with a clear 400/403/409.

Every filter is applied here on the server side (clients trust them): `device_id`,
`network_id`, `id`, `mac_address`, `device_owner`, `project_id`/`tenant_id`, `status`,
`fixed_ips=ip_address=...` / `fixed_ips=subnet_id=...`, and any other attribute. A member
sees its project's ports; `binding:host_id`, `binding:vif_type` and `binding:vif_details` are
for admins (Neutron's policy).
"""
from cloudproj.api.neutron import NeutronAPIView, bad_request, conflict, list_response, not_found, show_response, \
    timestamp
from compute.models import Instance
from identity.services.policy import enforce
from network.services import neutron as net_svc
from network.services import ports as svc
from secgroups.services import membership

DEVICE_OWNER = "compute:nova"


def security_group_id(group) -> str:
    """The Networking API id of a security group: its `neutron_id` when the model has one,
    else its primary key (the one place to change when the ids change)."""
    value = getattr(group, "neutron_id", None)
    return str(value) if value else str(group.pk)


def _groups(instance_uuids) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for instance in Instance.all_objects.filter(uuid__in=list(instance_uuids)):
        result[str(instance.uuid)] = [security_group_id(g) for g in membership.groups_of(instance)]
    return result


def port_dict(port, groups: list[str], is_admin: bool) -> dict:
    body = {
        "id": port.id,
        "name": "",
        "network_id": str(port.network.uuid),
        "project_id": port.project_id,
        "tenant_id": port.project_id,
        "mac_address": port.mac,
        "admin_state_up": True,
        "status": "ACTIVE" if port.active else "DOWN",
        "device_id": port.instance_uuid,
        "device_owner": DEVICE_OWNER,
        "fixed_ips": [{"subnet_id": net_svc.subnet_id(port.network), "ip_address": port.address}],
        "security_groups": groups,
        "description": "",
        "binding:vnic_type": "normal",
        "created_at": timestamp(port.created),
        "updated_at": timestamp(port.updated),
    }
    if is_admin:
        body.update({"binding:host_id": port.host, "binding:vif_type": "bridge", "binding:vif_details": {},
                     "binding:profile": {}})
    return body


def _match_fixed_ips(item: dict, wanted: list[str]) -> bool:
    """`fixed_ips=ip_address=10.0.0.3` / `subnet_id=...` / `ip_address_substr=...`: repeated
    values of one key: any of them; of different keys: all of them."""
    conditions: dict[str, list[str]] = {}
    for spec in wanted:
        key, sep, value = spec.partition("=")
        if not sep or key not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise bad_request(f"Invalid fixed_ips filter {spec!r}: use ip_address=, subnet_id= or "
                              "ip_address_substr=.", "InvalidInput")
        conditions.setdefault(key, []).append(value)
    for key, values in conditions.items():
        if key == "ip_address_substr":
            ok = any(v in f["ip_address"] for f in item["fixed_ips"] for v in values)
        else:
            ok = any(f[key] in values for f in item["fixed_ips"])
        if not ok:
            return False
    return True


def visible_ports(ctx, **filters) -> list:
    return svc.ports(project_id=None if ctx.is_admin else ctx.project_id, **filters)


def port_dicts(ctx, ports) -> list[dict]:
    groups = _groups({p.instance_uuid for p in ports})
    return [port_dict(p, groups.get(p.instance_uuid, []), ctx.is_admin) for p in ports]


class PortCollection(NeutronAPIView):
    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "network:get_port")
        query = request.query_params
        # narrow in the database first (the same filters are applied again to the dicts)
        narrowed = {}
        if "device_id" in query:
            narrowed["instance_uuids"] = query.getlist("device_id")
        if "network_id" in query:
            narrowed["network_ids"] = query.getlist("network_id")
        if "id" in query:
            narrowed["ids"] = query.getlist("id")
        items = port_dicts(ctx, visible_ports(ctx, **narrowed))
        return list_response(request, "ports", items, custom={"fixed_ips": _match_fixed_ips})

    def post(self, request):
        enforce(self.ctx, "network:get_port")
        raise bad_request("Ports cannot be created through this API: a server's port is created when the "
                          "server boots (openstack server create --network <network>).")


class PortItem(NeutronAPIView):
    def _port(self, port_id):
        ctx = self.ctx
        port = svc.find_port(port_id)
        if port is None or (not ctx.is_admin and port.project_id != ctx.project_id):
            raise not_found(f"Port {port_id} could not be found.", "PortNotFound")
        return port

    def get(self, request, port_id):
        ctx = self.ctx
        enforce(ctx, "network:get_port")
        return show_response(request, "port", port_dicts(ctx, [self._port(port_id)])[0])

    def put(self, request, port_id):
        enforce(self.ctx, "network:get_port")
        port = self._port(port_id)
        raise conflict(f"Port {port.id} cannot be changed: it is the address {port.address} of server "
                       f"{port.instance_uuid} (change the server's security groups through the server).",
                       "PortInUse")

    def delete(self, request, port_id):
        enforce(self.ctx, "network:get_port")
        port = self._port(port_id)
        raise conflict(f"Port {port.id} is the address {port.address} of server {port.instance_uuid}: "
                       "it goes away when the server is deleted.", "PortInUse")

