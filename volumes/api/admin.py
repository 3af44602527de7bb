"""Block Storage v3 admin resources (Cinder's bodies; every route is admin only):

    GET /v3/{project}/os-hosts                        {"hosts": [...]}: the volume services
    GET /v3/{project}/os-hosts/{host}                 {"host": [{"resource": ...}]}: "(total)" then
                                                      one row per project with volumes/snapshots there
    GET|PUT /v3/{project}/os-quota-class-sets/{name}  the quota engine's default class: PUT changes
                                                      the defaults every project without its own
                                                      limit gets (only the "default" class exists:
                                                      other names show the defaults, PUT is a 400)
    GET /v3/{project}/scheduler-stats/get_pools       {"pools": [{"name": "host@backend#pool"}]};
                                                      ?detail=true adds the capabilities the volume
                                                      host's agent last reported (VolumeHost)
    PUT /v3/{project}/os-services/{action}            enable, disable, disable-log-reason
                                                      {"host", "binary", ["disabled_reason"]};
                                                      freeze, thaw {"host"}

A volume host's back end is named after its driver (`host@lvm`, pool `host@lvm#lvm`), as in
/capabilities. freeze/thaw: no back end here replicates, so (like Cinder's drivers without
replication) they change nothing and answer 200 with an empty body; an unknown host is a 400.
Volume-type-specific quota keys (`volumes_<type>`) are not supported (400).
"""
from django.conf import settings
from django.db.models import Count, Sum
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, NotFound
from compute.api.base import isotime
from compute.models import Service, is_up
from identity.services import policy, quotas

from ..models import Snapshot, Volume, VolumeHost
from ..services import scheduler
from .common import VolumeView, quota_error
from .quotas import volume_quota_set, volume_resources

CINDER_BINARY = "cinder-volume"
SCHEDULER_BINARY = "nova-scheduler"  # compute/agent.py registers it for the scheduler worker


def _volume_service(host: str) -> Service | None:
    return Service.objects.filter(binary=scheduler.BINARY, host=host.split("@", 1)[0]).first()


def _backend(row: VolumeHost) -> str:
    return f"{row.host}@{row.driver}"


class HostCollection(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:hosts:list")
        zones = scheduler.host_zones()
        default = settings.DEFAULT_AVAILABILITY_ZONE
        drivers = dict(VolumeHost.objects.values_list("host", "driver"))
        hosts = []
        # Cinder lists every service: the volume hosts, then the schedulers (this cloud's
        # scheduler worker places volumes too: volumes/services/scheduler.py)
        for service in Service.objects.filter(binary__in=(scheduler.BINARY, SCHEDULER_BINARY)).order_by(
                "-binary", "host"):
            volume_service = service.binary == scheduler.BINARY
            name = f"{service.host}@{drivers[service.host]}" if volume_service and service.host in drivers \
                else service.host
            hosts.append({
                "service-status": "available" if is_up(service) else "unavailable",
                "service": CINDER_BINARY if volume_service else "cinder-scheduler",
                "zone": zones.get(service.host, default) if volume_service else default,
                "service-state": "disabled" if service.disabled else "enabled",
                "host_name": name, "last-update": isotime(service.last_seen_up),
            })
        return Response({"hosts": hosts})


def _resource(host: str, project: str, volumes: dict, snapshots: dict) -> dict:
    return {"resource": {
        "volume_count": str(volumes.get("n") or 0), "total_volume_gb": str(volumes.get("gb") or 0),
        "snapshot_count": str(snapshots.get("n") or 0), "total_snapshot_gb": str(snapshots.get("gb") or 0),
        "project": project, "host": host,
    }}


class HostItem(VolumeView):
    def get(self, request, project_id, host):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:hosts:show")
        service = _volume_service(host)
        if service is None:
            raise NotFound(f"Host {host} could not be found.")
        volumes = Volume.objects.filter(host=service.host)
        snapshots = Snapshot.objects.filter(host=service.host)
        per_volumes = {r["project_id"]: r for r in volumes.values("project_id").annotate(n=Count("id"), gb=Sum("size"))}
        per_snaps = {r["project_id"]: r for r in snapshots.values("project_id").annotate(n=Count("id"),
                                                                                         gb=Sum("size"))}
        rows = [_resource(host, "(total)", volumes.aggregate(n=Count("id"), gb=Sum("size")),
                          snapshots.aggregate(n=Count("id"), gb=Sum("size")))]
        for project in sorted(set(per_volumes) | set(per_snaps)):
            rows.append(_resource(host, project, per_volumes.get(project, {}), per_snaps.get(project, {})))
        return Response({"host": rows})


class QuotaClassView(VolumeView):
    def get(self, request, project_id, class_name):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:quota_classes:show")
        return Response({"quota_class_set": {"id": class_name, **volume_quota_set(quotas.get_defaults(with_types=True))}})

    def put(self, request, project_id, class_name):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:quota_classes:update")
        if class_name != quotas.DEFAULT_CLASS:
            raise BadRequest(f"Only the '{quotas.DEFAULT_CLASS}' quota class can be changed here.")
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get("quota_class_set"), dict):
            raise BadRequest("The request body must be an object with a 'quota_class_set' object.")
        try:
            values, _ = quotas.parse_quota_update({"quota_set": body["quota_class_set"]}, volume_resources(),
                                                  allow_force=False)
            quotas.set_defaults(values)
        except quotas.QuotaError as exc:
            raise quota_error(exc) from None
        return Response({"quota_class_set": volume_quota_set(quotas.get_defaults(with_types=True))})


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    text = value.strip().lower()
    if text in ("true", "1", "t", "yes", "y", "on"):
        return True
    if text in ("false", "0", "f", "no", "n", "off", ""):
        return False
    raise BadRequest(f"Invalid value {value!r} for detail: a boolean is expected.")


class PoolsView(VolumeView):
    def get(self, request, project_id):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:scheduler_stats:get_pools")
        detail = _flag(request.query_params.get("detail"))
        wanted = request.query_params.get("name")
        pools = []
        for row in VolumeHost.objects.order_by("host"):
            name = f"{_backend(row)}#{row.driver}"
            if wanted is not None and wanted != name:
                continue
            pool = {"name": name}
            if detail:
                stamp = row.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
                pool["capabilities"] = {
                    "pool_name": row.driver, "volume_backend_name": row.driver, **scheduler.capabilities(row.driver),
                    "total_capacity_gb": row.total_gb, "free_capacity_gb": scheduler.free_gb(row),
                    "allocated_capacity_gb": scheduler.allocated_gb(row.host), "reserved_percentage": 0,
                    "QoS_support": False, "thin_provisioning_support": False,
                    "thick_provisioning_support": True, "multiattach": False,
                    "updated": stamp, "timestamp": stamp,
                }
            pools.append(pool)
        return Response({"pools": pools})


SERVICE_ACTIONS = ("enable", "disable", "disable-log-reason", "freeze", "thaw")


class ServiceAction(VolumeView):
    def put(self, request, project_id, action):
        self.check_url_project(project_id)
        policy.enforce(self.ctx, "volume:services:update")
        if action not in SERVICE_ACTIONS:
            raise NotFound(f"Unknown action {action!r}.")
        body = request.data
        if not isinstance(body, dict):
            raise BadRequest("The request body must be an object.")
        host = body.get("host")
        if not isinstance(host, str) or not host:
            raise BadRequest("Missing required element 'host' in request body.")
        service = _volume_service(host)
        if action in ("freeze", "thaw"):
            if service is None:  # Cinder: an unknown backend is an invalid request
                raise BadRequest(f"Invalid input received: host {host} is not a volume backend.")
            return Response(status=200)
        binary = body.get("binary", CINDER_BINARY)
        if binary != CINDER_BINARY:
            raise NotFound(f"Service {binary} on host {host} could not be found.")
        if service is None:
            raise NotFound(f"Host {host} could not be found.")
        reason = None
        if action == "disable-log-reason":
            reason = body.get("disabled_reason")
            if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
                raise BadRequest("Invalid input received: disabled_reason must be a non-empty string of at most "
                                 "255 characters.")
        disabled = action != "enable"
        service.disabled = disabled
        service.disabled_reason = reason
        service.save(update_fields=["disabled", "disabled_reason", "updated_at"])
        return Response({"disabled": disabled, "status": "disabled" if disabled else "enabled", "host": host,
                         "service": "", "binary": CINDER_BINARY, "disabled_reason": reason})
