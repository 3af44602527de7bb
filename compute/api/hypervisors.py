"""os-hypervisors: list and detail (from 2.33 paged by limit and marker, with a next link in
hypervisors_links when the page is full; cpu_info an object from 2.28), show, statistics
(compute nodes and their capacity), uptime (asked of the node's agent), search by hostname and
the servers of matching nodes."""
from rest_framework.response import Response

from compute.models import Instance
from compute.services import hosts
from identity.services.policy import enforce

from . import serializers
from .base import ComputeAPIView, api_version, next_links, page_request


class HypervisorListView(ComputeAPIView):
    detail = False

    def get(self, request):
        enforce(self.ctx, "compute:hypervisors:list")
        version = api_version(request)
        nodes = hosts.list_compute_nodes()
        paged = version >= (2, 33)  # limit and marker (a node id) from 2.33
        if paged:
            limit, marker = page_request(request)
            nodes = list(hosts.nodes_after(nodes, marker)[:limit])
        if self.detail:
            body = {"hypervisors": [serializers.hypervisor_detail(node, version) for node in nodes]}
        else:
            body = {"hypervisors": [serializers.hypervisor_summary(node) for node in nodes]}
        links = next_links(request, "os-hypervisors/detail" if self.detail else "os-hypervisors", nodes, limit,
                           nodes[-1].id) if paged and nodes else []
        if links:
            body["hypervisors_links"] = links
        return Response(body)


class HypervisorDetailListView(HypervisorListView):
    detail = True


class HypervisorView(ComputeAPIView):
    def get(self, request, hypervisor_id):
        enforce(self.ctx, "compute:hypervisors:show")
        return Response({"hypervisor": serializers.hypervisor_detail(hosts.get_compute_node(hypervisor_id),
                                                                     api_version(request))})


class HypervisorStatisticsView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:hypervisors:statistics")
        return Response({"hypervisor_statistics": hosts.hypervisor_statistics()})


class HypervisorUptimeView(ComputeAPIView):
    """The `uptime` line of the node's host, from its agent (400 when its service is down, 503
    when the agent does not answer in time)."""

    def get(self, request, hypervisor_id):
        enforce(self.ctx, "compute:hypervisors:uptime")
        node = hosts.get_compute_node(hypervisor_id)
        uptime = hosts.hypervisor_uptime(node)
        return Response({"hypervisor": {**serializers.hypervisor_summary(node), "uptime": uptime}})


class HypervisorSearchView(ComputeAPIView):
    """GET /os-hypervisors/{pattern}/search: nodes whose hostname contains the pattern (404: none)."""

    def get(self, request, pattern):
        enforce(self.ctx, "compute:hypervisors:search")
        nodes = hosts.search_compute_nodes(pattern)
        return Response({"hypervisors": [serializers.hypervisor_summary(node) for node in nodes]})


class HypervisorServersView(ComputeAPIView):
    """GET /os-hypervisors/{pattern}/servers: matching nodes, each with the `servers` (name and
    uuid) it runs; a node without servers has no `servers` key (Nova 2.1)."""

    def get(self, request, pattern):
        enforce(self.ctx, "compute:hypervisors:servers")
        body = []
        for node in hosts.search_compute_nodes(pattern):
            summary = serializers.hypervisor_summary(node)
            servers = Instance.objects.filter(host=node.service.host, node=node.hypervisor_hostname).order_by("id")
            rows = [{"name": instance.name, "uuid": str(instance.uuid)} for instance in servers]
            if rows:
                summary["servers"] = rows
            body.append(summary)
        return Response({"hypervisors": body})
