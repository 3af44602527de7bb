"""GET /volume/v3/{project}/os-availability-zone (any user) and /os-services (admins):
the volume hosts as Cinder shows them (binary `cinder-volume`, the host's zone)."""
from django.conf import settings
from rest_framework.response import Response

from compute.api.base import isotime
from compute.models import Service, is_up
from identity.services import policy

from ..services import scheduler
from .common import VolumeView


class AvailabilityZoneView(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:availability_zone:list")
        default = settings.DEFAULT_AVAILABILITY_ZONE
        zones = scheduler.host_zones()
        live = {zones.get(host, default) for host in scheduler.live_services()}
        return Response({"availabilityZoneInfo": [
            {"zoneName": zone, "zoneState": {"available": zone in live}} for zone in sorted(scheduler.zones())
        ]})


class ServicesView(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:services:list")
        zones = scheduler.host_zones()
        default = settings.DEFAULT_AVAILABILITY_ZONE
        rows = Service.objects.filter(binary=scheduler.BINARY).order_by("host")
        if request.query_params.get("host"):
            rows = rows.filter(host=request.query_params["host"].split("@", 1)[0])
        if request.query_params.get("binary") not in (None, "cinder-volume"):
            rows = rows.none()  # only volume services here (no cinder-scheduler/-backup rows)
        services = [
            {"binary": "cinder-volume", "host": s.host, "zone": zones.get(s.host, default),
             "status": "disabled" if s.disabled else "enabled", "state": "up" if is_up(s) else "down",
             "updated_at": isotime(s.last_seen_up), "disabled_reason": s.disabled_reason}
            for s in rows
        ]
        if self.at_least("3.7"):  # no service is in a cluster here
            for service in services:
                service["cluster_name"] = None
        return Response({"services": services})
