"""os-tenant-networks (Nova 2.1, nova-network): the networks the caller's project may use, as
{id, label, cidr}. List and show only (creating and deleting is os-networks' business here)."""
from rest_framework.response import Response

from identity.services.policy import enforce
from network.services import networks as network_service

from .base import PROXY_REMOVED_IN, ComputeAPIView


def tenant_network(network) -> dict:
    return {"id": str(network.uuid), "label": network.label, "cidr": network.cidr}


class TenantNetworkListView(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request):
        ctx = self.ctx
        enforce(ctx, "compute:tenant_networks:list", {"project_id": ctx.project_id})
        networks = network_service.visible_networks(ctx.project_id, ctx.is_admin).order_by("id")
        return Response({"networks": [tenant_network(network) for network in networks]})


class TenantNetworkView(ComputeAPIView):
    removed_in = PROXY_REMOVED_IN

    def get(self, request, network_id):
        ctx = self.ctx
        enforce(ctx, "compute:tenant_networks:show", {"project_id": ctx.project_id})
        network = network_service.get_network(network_id, ctx.project_id, ctx.is_admin)
        return Response({"network": tenant_network(network)})
