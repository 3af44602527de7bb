"""os-availability-zone: zones of compute services (and, in detail, the internal zone)."""
from rest_framework.response import Response

from compute.services import hosts
from identity.services.policy import enforce

from .base import ComputeAPIView, isotime


class AvailabilityZoneListView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:availability_zone:list")
        zones = [
            {"zoneName": zone, "zoneState": {"available": available}, "hosts": None}
            for zone, available in hosts.availability_zones()
        ]
        return Response({"availabilityZoneInfo": zones})


class AvailabilityZoneDetailView(ComputeAPIView):
    def get(self, request):
        enforce(self.ctx, "compute:availability_zone:detail")
        zones = []
        for zone, available, zone_hosts in hosts.availability_zones_detail():
            zones.append(
                {
                    "zoneName": zone,
                    "zoneState": {"available": available},
                    "hosts": {
                        host: {
                            svc.binary: {
                                "available": hosts.service_is_up(svc),
                                "active": not svc.disabled,
                                "updated_at": isotime(svc.last_seen_up or svc.updated_at),
                            }
                            for svc in services
                        }
                        for host, services in zone_hosts.items()
                    },
                }
            )
        return Response({"availabilityZoneInfo": zones})
