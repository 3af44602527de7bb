"""Quotas of the Networking API v2.0 over the cloud's one quota engine
(identity.services.quotas): Neutron's keys are names for the engine's resources.

  floatingip           floating_ips              (enforced by floating IP allocation)
  security_group       security_groups           (enforced by security group create)
  security_group_rule  security_group_rules      (enforced by rule create)
  port                 fixed_ips                 (a port is a server's fixed address)
  network, subnet      not enforced: only admins create networks; always -1 (unlimited), and a
                       PUT of them is a 400

GET /quotas (admin: projects with their own limits), GET/PUT/DELETE /quotas/{project_id},
GET /quotas/{project_id}/details (limit, used, reserved), GET /quotas/{project_id}/default.
A member reads its own project's quotas; only admins change them. PUT takes `check_limit`
(quota-check-limit: true refuses a limit below what the project uses).
"""
from rest_framework.response import Response

from cloudproj.api.neutron import NeutronAPIView, bad_request, not_found, parse_bool
from identity.models import Project, Quota
from network.models import Network
from identity.services import quotas as engine
from identity.services.policy import enforce
from network.services import neutron as net_svc
from network.services import ports as port_svc

ENGINE_KEYS = {
    "floatingip": "floating_ips",
    "security_group": "security_groups",
    "security_group_rule": "security_group_rules",
    "port": "fixed_ips",
}
UNENFORCED = ("network", "subnet")
KEYS = (*UNENFORCED, *ENGINE_KEYS)


def _project(project_id: str) -> Project:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise not_found(f"Project {project_id} could not be found.", "HTTPNotFound")
    return project


def _limits(limits: dict) -> dict:
    body = {key: -1 for key in UNENFORCED}
    body.update({key: limits.get(resource, -1) for key, resource in ENGINE_KEYS.items()})
    return body


def _used(project: Project) -> dict:
    usages = engine.get_usages(project)
    used = {key: usages.get(resource, {"in_use": 0, "reserved": 0}) for key, resource in ENGINE_KEYS.items()}
    used["port"] = {"in_use": len(port_svc.ports(project_id=project.pk)), "reserved": 0}  # counted, not tracked
    owned = [n for n in net_svc.networks(project.pk, False) if n.project_id == project.pk]
    used["network"] = {"in_use": len(owned), "reserved": 0}
    used["subnet"] = {"in_use": sum(1 for n in owned if isinstance(n, Network)),
                      "reserved": 0}
    return used


class QuotaCollection(NeutronAPIView):
    def get(self, request):
        enforce(self.ctx, "network:list_quotas")
        project_ids = sorted(set(Quota.objects.filter(resource__in=list(ENGINE_KEYS.values()))
                                 .values_list("project_id", flat=True)))
        body = []
        for project in Project.objects.filter(pk__in=project_ids).order_by("pk"):
            body.append({**_limits(engine.get_quotas(project)), "project_id": project.pk, "tenant_id": project.pk})
        return Response({"quotas": body})


class QuotaItem(NeutronAPIView):
    def get(self, request, project_id):
        enforce(self.ctx, "network:get_quota", {"project_id": project_id})
        return Response({"quota": _limits(engine.get_quotas(_project(project_id)))})

    def put(self, request, project_id):
        enforce(self.ctx, "network:update_quota")
        project = _project(project_id)
        data = dict(self.body("quota"))
        # quota-check-limit: refuse a limit below the current usage (Neutron's default: allow it)
        check_limit = parse_bool(data.pop("check_limit", False), "check_limit")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        limits = {}
        for key, value in data.items():
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < -1:
                raise bad_request(f"Invalid input for {key}. Reason: '{value}' is not an integer of -1 or more.",
                                  "InvalidInput")
            if key in UNENFORCED:
                if value != -1:
                    raise bad_request(f"The {key} quota is not enforced by this cloud (only admins create "
                                      "networks): it stays -1.", "InvalidInput")
                continue
            limits[ENGINE_KEYS[key]] = value
            if check_limit and value != -1 and value < _used(project)[key]["in_use"]:
                raise bad_request(f"Quota limit {value} for {key} is below what the project uses.", "InvalidInput")
        try:
            engine.set_quotas(project, limits, force=not check_limit)
        except (engine.InvalidQuotaValue, engine.UnknownResource) as exc:
            raise bad_request(str(exc), "InvalidInput") from None
        return Response({"quota": _limits(engine.get_quotas(project))})

    def delete(self, request, project_id):
        enforce(self.ctx, "network:delete_quota")
        engine.delete_quotas(_project(project_id), resources=list(ENGINE_KEYS.values()))
        return Response(status=204)


class QuotaDetails(NeutronAPIView):
    def get(self, request, project_id):
        enforce(self.ctx, "network:get_quota", {"project_id": project_id})
        project = _project(project_id)
        limits, used = _limits(engine.get_quotas(project)), _used(project)
        return Response({"quota": {key: {"limit": limits[key], "used": used[key]["in_use"],
                                         "reserved": used[key]["reserved"]} for key in KEYS}})


class QuotaDefault(NeutronAPIView):
    def get(self, request, project_id):
        enforce(self.ctx, "network:get_quota", {"project_id": project_id})
        _project(project_id)
        return Response({"quota": _limits(engine.get_defaults())})
