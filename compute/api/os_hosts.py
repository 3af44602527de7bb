"""os-hosts (Nova 2.1-2.42, deprecated at 2.43: a 404 from then on): the hosts' services, a host's resources by
project, enable/disable its compute service; maintenance mode and power actions are what the
libvirt driver cannot do (404 unknown host, 400 compute service down, else 501, as Nova)."""
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest
from compute.services import hosts
from identity.services.policy import enforce

from .base import ComputeAPIView

OS_HOSTS_REMOVED_IN = (2, 43)  # 404 from 2.43: os-services, os-hypervisors and os-aggregates instead
ENABLE_VALUES = ("enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE")


class HostListView(ComputeAPIView):
    removed_in = OS_HOSTS_REMOVED_IN

    def get(self, request):
        enforce(self.ctx, "compute:hosts:list")
        rows = hosts.list_host_services(request.query_params.get("zone") or None)
        return Response({"hosts": [{"host_name": host, "service": topic, "zone": zone} for host, topic, zone in rows]})


def _resource(host: str, project: str, cpu: int, memory_mb: int, disk_gb: int) -> dict:
    return {"resource": {"host": host, "project": project, "cpu": cpu, "memory_mb": memory_mb, "disk_gb": disk_gb}}


class HostView(ComputeAPIView):
    removed_in = OS_HOSTS_REMOVED_IN

    def get(self, request, host):
        enforce(self.ctx, "compute:hosts:show")
        res = hosts.describe_resource(host)
        rows = [_resource(res.host, "(total)", *res.total), _resource(res.host, "(used_now)", *res.used_now),
                _resource(res.host, "(used_max)", *res.used_max)]
        rows += [_resource(res.host, project, *usage) for project, *usage in res.projects]
        return Response({"host": rows})

    def put(self, request, host):
        """Body {"status": "enable"|"disable", "maintenance_mode": ...} (at least one)."""
        enforce(self.ctx, "compute:hosts:update")
        data = request.data
        if not isinstance(data, dict):
            raise BadRequest("Invalid input: the body must be an object.")
        unknown = sorted(set(data) - {"status", "maintenance_mode"})
        if unknown:
            raise BadRequest(f"Invalid input: additional properties are not allowed ({', '.join(unknown)}).")
        if not data:
            raise BadRequest("Invalid input: 'status' or 'maintenance_mode' is required.")
        for field, value in data.items():
            if value not in ENABLE_VALUES:
                raise BadRequest(f"Invalid input for field/attribute {field}: {value!r} is not one of "
                                 f"{list(ENABLE_VALUES)}.")
        if "maintenance_mode" in data:  # refused before the status changes: nothing half-done
            hosts.check_host_maintenance(host)
        result = {"host": host}
        if "status" in data:
            result["status"] = hosts.set_host_enabled(host, data["status"].lower() == "enable")
        return Response(result)


class HostPowerActionView(ComputeAPIView):
    """GET /os-hosts/{host}/reboot|shutdown|startup."""
    removed_in = OS_HOSTS_REMOVED_IN

    action = ""
    policy = ""

    def get(self, request, host):
        enforce(self.ctx, self.policy)
        return Response({"host": host, "power_action": hosts.host_power_action(host, self.action)})


class HostRebootView(HostPowerActionView):
    action, policy = "reboot", "compute:hosts:reboot"


class HostShutdownView(HostPowerActionView):
    action, policy = "shutdown", "compute:hosts:shutdown"


class HostStartupView(HostPowerActionView):
    action, policy = "startup", "compute:hosts:start"
