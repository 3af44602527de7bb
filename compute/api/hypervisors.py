"""os-hypervisors: list, detail, show, statistics (compute nodes and their capacity), uptime
(asked of the node's agent), search by hostname and the servers of matching nodes.

From 2.53 hypervisors (and their service) are named by uuid; the list and detail take
`hypervisor_hostname_pattern` (instead of /{pattern}/search) and, with show,
`with_servers=true` (instead of /{pattern}/servers); the two old routes are gone (404). A
hypervisor without servers shows no `servers` key, from 2.75 an empty list."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.models import Instance
from compute.services import hosts
from identity.services.policy import enforce

from . import serializers
from .base import ComputeAPIView, api_version, parse_bool
from .serializers import UUID_IDS_VERSION

EMPTY_SERVERS_VERSION = (2, 75)


def with_servers(body: dict, node, version) -> dict:
    """The node's body with the `servers` (name and uuid) it runs."""
    servers = Instance.objects.filter(host=node.service.host, node=node.hypervisor_hostname).order_by("id")
    rows = [{"name": instance.name, "uuid": str(instance.uuid)} for instance in servers]
    if rows or version >= EMPTY_SERVERS_VERSION:
        body["servers"] = rows
    return body


def _with_servers_param(request) -> bool:
    value = request.query_params.get("with_servers", "false")
    return parse_bool(value, "with_servers")


class HypervisorListView(ComputeAPIView):
    detail = False

    def get(self, request):
        enforce(self.ctx, "compute:hypervisors:list")
        version = api_version(request)
        render = serializers.hypervisor_detail if self.detail else serializers.hypervisor_summary
        servers = False
        nodes = hosts.list_compute_nodes()
        if version >= UUID_IDS_VERSION:
            servers = _with_servers_param(request)
            pattern = request.query_params.get("hypervisor_hostname_pattern")
            if pattern is not None:
                if "limit" in request.query_params or "marker" in request.query_params:
                    raise BadRequest("Paging over a list of hypervisors using the hypervisor_hostname_pattern query "
                                     "parameter is not supported.")
                nodes = hosts.search_compute_nodes(pattern)
        body = [render(node, version) for node in nodes]
        if servers:
            body = [with_servers(item, node, version) for item, node in zip(body, nodes)]
        return Response({"hypervisors": body})


class HypervisorDetailListView(HypervisorListView):
    detail = True


class HypervisorView(ComputeAPIView):
    def get(self, request, hypervisor_id):
        enforce(self.ctx, "compute:hypervisors:show")
        version = api_version(request)
        by_uuid = version >= UUID_IDS_VERSION
        node = hosts.get_compute_node(hypervisor_id, by_uuid=by_uuid)
        body = serializers.hypervisor_detail(node, version)
        if by_uuid and _with_servers_param(request):
            body = with_servers(body, node, version)
        return Response({"hypervisor": body})


class HypervisorStatisticsView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:hypervisors:statistics")
        return Response({"hypervisor_statistics": hosts.hypervisor_statistics()})


class HypervisorUptimeView(ComputeAPIView):
    """The `uptime` line of the node's host, from its agent (400 when its service is down, 503
    when the agent does not answer in time)."""

    def get(self, request, hypervisor_id):
        enforce(self.ctx, "compute:hypervisors:uptime")
        version = api_version(request)
        node = hosts.get_compute_node(hypervisor_id, by_uuid=version >= UUID_IDS_VERSION)
        uptime = hosts.hypervisor_uptime(node)
        return Response({"hypervisor": {**serializers.hypervisor_summary(node, version), "uptime": uptime}})


class HypervisorSearchView(ComputeAPIView):
    """GET /os-hypervisors/{pattern}/search: nodes whose hostname contains the pattern (404: none)."""

    def get(self, request, pattern):
        if api_version(request) >= UUID_IDS_VERSION:  # hypervisor_hostname_pattern on the list instead
            raise NotFound("The resource could not be found.")
        enforce(self.ctx, "compute:hypervisors:search")
        nodes = hosts.search_compute_nodes(pattern)
        return Response({"hypervisors": [serializers.hypervisor_summary(node) for node in nodes]})


class HypervisorServersView(ComputeAPIView):
    """GET /os-hypervisors/{pattern}/servers: matching nodes, each with the `servers` (name and
    uuid) it runs; a node without servers has no `servers` key (Nova 2.1)."""

    def get(self, request, pattern):
        if api_version(request) >= UUID_IDS_VERSION:  # with_servers on the list instead
            raise NotFound("The resource could not be found.")
        enforce(self.ctx, "compute:hypervisors:servers")
        nodes = hosts.search_compute_nodes(pattern)
        return Response({"hypervisors": [with_servers(serializers.hypervisor_summary(node), node, (2, 1))
                                         for node in nodes]})
