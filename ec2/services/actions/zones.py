"""DescribeAvailabilityZones (the compute services' zones) and DescribeRegions (the catalog's)."""
from django.conf import settings

from compute.services import hosts
from ec2.services import filters
from ec2.services.params import Params
from identity.models import Region
from identity.services.policy import enforce


def describe_availability_zones(ctx, p: Params) -> dict:
    enforce(ctx, "compute:availability_zone:list")
    names = p.values("ZoneName")
    p.values("ZoneId")
    p.flag("AllAvailabilityZones")
    zones = [{"zoneName": zone, "zoneState": "available" if up else "unavailable", "regionName":
              settings.CLOUD_REGION, "zoneId": zone, "zoneType": "availability-zone", "messageSet": []}
             for zone, up in hosts.availability_zones()]
    if names:
        zones = [z for z in zones if z["zoneName"] in names]
    requested = p.filters()
    if requested:
        zones = filters.apply(zones, requested, {"zone-name": lambda z: z["zoneName"], "state": lambda z: z["zoneState"],
                                                  "region-name": lambda z: z["regionName"],
                                                  "zone-id": lambda z: z["zoneId"]})
    return {"availabilityZoneInfo": zones}


def describe_regions(ctx, p: Params) -> dict:
    names = p.values("RegionName")
    p.flag("AllRegions")
    regions = sorted(set(Region.objects.values_list("id", flat=True)) | {settings.CLOUD_REGION})
    if names:
        regions = [r for r in regions if r in names]
    items = [{"regionName": r, "regionEndpoint": getattr(ctx, "ec2_endpoint", ""), "optInStatus": "opt-in-not-required"}
             for r in regions]
    requested = p.filters()
    if requested:
        items = filters.apply(items, requested, {"region-name": lambda r: r["regionName"],
                                                 "endpoint": lambda r: r["regionEndpoint"]})
    return {"regionInfo": items}
