"""os-hypervisors: list, detail, show, statistics (compute nodes and their capacity)."""
from rest_framework import exceptions
from rest_framework.response import Response

from compute.services import hosts
from identity.services.policy import enforce

from . import serializers
from .base import ComputeAPIView


class HypervisorListView(ComputeAPIView):
    detail = False

    def get(self, request):
        enforce(self.ctx, "compute:hypervisors:list")
        render = serializers.hypervisor_detail if self.detail else serializers.hypervisor_summary
        return Response({"hypervisors": [render(node) for node in hosts.list_compute_nodes()]})


class HypervisorDetailListView(HypervisorListView):
    detail = True


class HypervisorView(ComputeAPIView):
    def get(self, request, hypervisor_id):
        enforce(self.ctx, "compute:hypervisors:show")
        return Response({"hypervisor": serializers.hypervisor_detail(hosts.get_compute_node(hypervisor_id))})


class HypervisorStatisticsView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:hypervisors:statistics")
        return Response({"hypervisor_statistics": hosts.hypervisor_statistics()})


class NotImplementedFault(exceptions.APIException):
    status_code = 501
    default_detail = "Virt driver does not implement uptime function."


class HypervisorUptimeView(ComputeAPIView):
    """Nova asks the host's driver; our API process is not on that host, so: 501 (clients
    such as `openstack hypervisor show` treat that as "no uptime")."""

    def get(self, request, hypervisor_id):
        enforce(self.ctx, "compute:hypervisors:uptime")
        hosts.get_compute_node(hypervisor_id)
        raise NotImplementedFault()


class AggregateListView(ComputeAPIView):
    """Host aggregates are not modelled yet: there are none (`hypervisor show` lists them)."""

    def get(self, request):
        enforce(self.ctx, "compute:aggregates:index")
        return Response({"aggregates": []})
