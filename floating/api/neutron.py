"""Networking API v2.0 floating IPs (`/network/v2.0/floatingips`), over the floating pools.

    GET    /floatingips                 filters floating_ip_address, port_id, floating_network_id,
                                        fixed_ip_address, status, project_id/tenant_id, id, ...;
                                        fields, sort, limit/marker
    POST   /floatingips                 {"floatingip": {"floating_network_id", "port_id"?,
                                        "fixed_ip_address"?, "floating_ip_address"? (admins),
                                        "description"?, "project_id"/"tenant_id"? (admins)}}  201
    GET    /floatingips/{id}
    PUT    /floatingips/{id}            {"floatingip": {"port_id": id | null, "fixed_ip_address"?,
                                        "description"?}}: associate / move / disassociate
    DELETE /floatingips/{id}            204; disassociated first, back to its pool

Policies are the compute API's floating IP actions (one rule per operation for both APIs;
the seeds' `netadmin` role by default). Errors: Neutron's envelope (cloudproj.api.neutron).
"""
from rest_framework.response import Response

from cloudproj.api import neutron as napi
from identity.services.policy import enforce

from ..models import FloatingIP
from ..services import floatingips, pools

CREATE_FIELDS = {"floating_network_id", "port_id", "fixed_ip_address", "floating_ip_address", "description",
                 "project_id", "tenant_id", "subnet_id"}
UPDATE_FIELDS = {"port_id", "fixed_ip_address", "description"}


def body_of(row: FloatingIP) -> dict:
    """One floating IP as Neutron shows it (neutron-lib's l3 `floatingips` attributes)."""
    associated = row.instance_uuid is not None and row.fixed_ip_id is not None
    fixed = row.fixed_ip if associated else None
    port_id = None
    if fixed is not None and fixed.instance_uuid == row.instance_uuid and fixed.port_id:
        port_id = str(fixed.port_id)
    project = str(row.project_id) if row.project_id else None
    return {
        "id": str(row.uuid),
        "floating_ip_address": row.address,
        "floating_network_id": pools.pool_network_id(row.pool),
        "router_id": None,
        "port_id": port_id,
        "fixed_ip_address": fixed.address if fixed is not None else None,
        "status": floatingips.status(row),
        "project_id": project,
        "tenant_id": project,
        "description": row.description,
        "tags": [],
        "created_at": napi.timestamp(row.allocated_at or row.created_at),
        "updated_at": napi.timestamp(row.updated_at),
        "revision_number": row.revision_number,
    }


def _target(ctx, row: FloatingIP | None = None) -> dict:
    return {"project_id": row.project_id if row is not None and row.project_id else ctx.project_id}


class FloatingIPCollection(napi.NeutronAPIView):
    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:floating_ips:list", _target(ctx))
        items = [body_of(row) for row in floatingips.visible(ctx)]
        return napi.list_response(request, "floatingips", items)

    def post(self, request):
        ctx = self.ctx
        data = self.body("floatingip", CREATE_FIELDS, required=("floating_network_id",))
        project_id = data.get("project_id", data.get("tenant_id"))
        if "project_id" in data and "tenant_id" in data and data["project_id"] != data["tenant_id"]:
            raise napi.bad_request("'project_id' and 'tenant_id' do not match")
        if data.get("subnet_id") is not None:
            raise napi.bad_request("Bad floatingip request: subnet_id is not supported: every external "
                                   "network has one subnet, its pool.")
        enforce(ctx, "compute:floating_ips:create", {"project_id": project_id or ctx.project_id})
        if data.get("port_id") is not None:
            enforce(ctx, "compute:floating_ips:add", {"project_id": project_id or ctx.project_id})
        row = floatingips.create(ctx, data["floating_network_id"], port_id=data.get("port_id"),
                                 fixed_ip_address=data.get("fixed_ip_address"),
                                 floating_ip_address=data.get("floating_ip_address"),
                                 description=data.get("description"), project_id=project_id)
        row = FloatingIP.objects.select_related("fixed_ip").get(pk=row.pk)
        return Response({"floatingip": body_of(row)}, status=201)


class FloatingIPItem(napi.NeutronAPIView):
    def _row(self, floatingip_id, action: str) -> FloatingIP:
        row = floatingips.get(self.ctx, floatingip_id)
        enforce(self.ctx, action, _target(self.ctx, row))
        return row

    def get(self, request, floatingip_id):
        row = self._row(floatingip_id, "compute:floating_ips:show")
        return napi.show_response(request, "floatingip", body_of(row))

    def put(self, request, floatingip_id):
        ctx = self.ctx
        data = self.body("floatingip", UPDATE_FIELDS)
        row = self._row(floatingip_id, "compute:floating_ips:show")
        changes = {}
        if "port_id" in data:
            action = "compute:floating_ips:remove" if data["port_id"] is None else "compute:floating_ips:add"
            enforce(ctx, action, _target(ctx, row))
            changes["port_id"] = data["port_id"]
            changes["fixed_ip_address"] = data.get("fixed_ip_address")
        elif "fixed_ip_address" in data:
            raise napi.bad_request("Bad floatingip request: fixed_ip_address requires port_id.")
        if "description" in data:
            enforce(ctx, "compute:floating_ips:create", _target(ctx, row))
            changes["description"] = data["description"]
        row = floatingips.update(ctx, row, **changes)
        return Response({"floatingip": body_of(row)})

    def delete(self, request, floatingip_id):
        row = self._row(floatingip_id, "compute:floating_ips:delete")
        floatingips.delete(self.ctx, row)
        return Response(status=204)
