"""Compute v2.1 floating IP calls (nova-network): /os-floating-ip-pools, /os-floating-ips.

    GET    /os-floating-ip-pools          {"floating_ip_pools": [{"name"}]}
    GET    /os-floating-ips               the project's addresses
    POST   /os-floating-ips {"pool"?}     allocate (200; 403 over quota, 404 unknown/empty pool);
                                          a form body pool=NAME too (what openstackclient 9.x sends)
    GET    /os-floating-ips/{id}          by id or address (another project's: 404)
    DELETE /os-floating-ips/{id}          release (202), disassociated first
"""
from django.http import QueryDict
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from cloudproj.api.parsers import StrictJSONParser
from compute.api.base import PROXY_REMOVED_IN, ComputeAPIView
from identity.services.policy import enforce

from ..services import addresses, ranges


def _target(ctx, row=None) -> dict:
    return {"project_id": row.project_id if row is not None and row.project_id else ctx.project_id}


class FloatingIPPoolsView(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request):
        enforce(self.ctx, "compute:floating_ip_pools:list")
        return Response({"floating_ip_pools": [{"name": name} for name in ranges.pools()]})


class FloatingIPCollection(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN
    # python-openstackclient (9.x, its nova-network path) posts {"pool": ...} as a form body
    parser_classes = [StrictJSONParser, FormParser]

    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:floating_ips:list", _target(ctx))
        return Response({"floating_ips": [addresses.as_dict(row) for row in addresses.floating_ips_of(ctx)]})

    def post(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:floating_ips:create", _target(ctx))
        data = request.data
        if isinstance(data, QueryDict):
            data = data.dict()
        if data in (None, "", {}):
            data = {}
        if not isinstance(data, dict):
            raise BadRequest("Invalid input: the request body must be an object.")
        pool = data.get("pool")
        if pool is not None and (not isinstance(pool, str) or not pool.strip()):
            raise BadRequest("Invalid input for field/attribute pool: must be a non-empty string or null.")
        row = addresses.allocate(ctx, pool)
        return Response({"floating_ip": addresses.as_dict(row)})


class FloatingIPItem(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request, floating_ip_id):
        ctx = self.ctx
        row = addresses.get_floating_ip(ctx, floating_ip_id)
        enforce(ctx, "compute:floating_ips:show", _target(ctx, row))
        return Response({"floating_ip": addresses.as_dict(row)})

    def delete(self, request, floating_ip_id):
        ctx = self.ctx
        row = addresses.get_floating_ip(ctx, floating_ip_id)
        enforce(ctx, "compute:floating_ips:delete", _target(ctx, row))
        addresses.release(ctx, row)
        return Response(status=202)
