"""Block Storage v3 admin resources against tempest's response schemas
(tempest/lib/api_schema/response/volume/{hosts,quota_classes,scheduler_stats}.py) and its
admin tests: os-hosts, os-quota-class-sets, scheduler-stats/get_pools, os-services actions."""
import re

import pytest

from cloudproj.testing.volumes import create, register, url
from compute.models import Service
from compute.services import hosts as hosts_services
from identity.services import quotas
from volumes.models import Volume
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
HOST_LIST_KEYS = {"service-status", "service", "zone", "service-state", "host_name", "last-update"}
RESOURCE_KEYS = {"volume_count", "total_volume_gb", "total_snapshot_gb", "project", "host", "snapshot_count"}
TYPE_KEYS = {"volumes___DEFAULT__", "gigabytes___DEFAULT__", "snapshots___DEFAULT__"}
QUOTA_KEYS = {"volumes", "snapshots", "backups", "groups", "per_volume_gigabytes", "gigabytes", "backup_gigabytes"}
CAPABILITY_TYPES = {"QoS_support": bool, "total_capacity_gb": (int, float), "free_capacity_gb": (int, float),
                    "volume_backend_name": str, "driver_version": str, "reserved_percentage": int,
                    "storage_protocol": str, "vendor_name": str}


def error(resp, code, name):
    assert resp.status_code == code, resp.content
    body = resp.json()
    assert body[name]["code"] == code
    return body[name]["message"]


def test_os_hosts_list_and_show(admin_client, admin_project, member_client, demo, volume_host_a, settings):
    register("vol-b", settings)
    Service.objects.filter(host="vol-b", binary="nova-volume").update(disabled=True)
    hosts_services.register_service("ctl", "nova-scheduler")  # the scheduler worker's row
    body = admin_client.get(url(admin_project, "os-hosts")).json()
    assert set(body) == {"hosts"}
    hosts = body["hosts"]
    # Cinder lists its schedulers too (tempest's test_list_hosts wants both kinds)
    scheduler_row = hosts.pop()
    assert (scheduler_row["host_name"], scheduler_row["service"], scheduler_row["service-status"]) == (
        "ctl", "cinder-scheduler", "available")
    assert [h["host_name"] for h in hosts] == ["vol-a@file", "vol-b@file"]
    for row in hosts:
        assert set(row) == HOST_LIST_KEYS
        assert row["service"] == "cinder-volume" and row["service-status"] == "available"
        assert DATE.match(row["last-update"]) and row["zone"] == settings.DEFAULT_AVAILABILITY_ZONE
    assert [h["service-state"] for h in hosts] == ["enabled", "disabled"]

    # two volumes of demo and one of admin on vol-a (the scheduler picks the enabled host)
    for client, project in ((member_client, demo), (member_client, demo), (admin_client, admin_project)):
        volume = Volume.objects.get(uuid=create(client, project)["id"])
        assert volume_host.create_volume(volume.id) == "available"
    body = admin_client.get(url(admin_project, "os-hosts/vol-a@file")).json()
    assert set(body) == {"host"}
    rows = [item["resource"] for item in body["host"]]
    assert all(set(item) == {"resource"} for item in body["host"])
    assert all(set(r) == RESOURCE_KEYS and all(isinstance(v, str) for v in r.values()) for r in rows)
    assert rows[0] == {"project": "(total)", "host": "vol-a@file", "volume_count": "3", "total_volume_gb": "3",
                       "snapshot_count": "0", "total_snapshot_gb": "0"}
    per_project = {r["project"]: r["volume_count"] for r in rows[1:]}
    assert per_project == {demo.id: "2", admin_project.id: "1"}
    empty = admin_client.get(url(admin_project, "os-hosts/vol-b")).json()["host"]
    assert [r["resource"]["volume_count"] for r in empty] == ["0"]

    error(admin_client.get(url(admin_project, "os-hosts/nowhere")), 404, "itemNotFound")
    error(member_client.get(url(demo, "os-hosts")), 403, "forbidden")
    error(member_client.get(url(demo, "os-hosts/vol-a")), 403, "forbidden")


def test_quota_class_default_show_and_update(admin_client, admin_project, member_client, demo):
    body = admin_client.get(url(admin_project, "os-quota-class-sets/default")).json()
    assert set(body) == {"quota_class_set"}
    values = body["quota_class_set"]
    assert values.pop("id") == "default"
    # Cinder's keys, and those of each volume type (here only __DEFAULT__), unlimited by default
    assert set(values) == QUOTA_KEYS | TYPE_KEYS and all(isinstance(v, int) for v in values.values())
    assert values == {k: v for k, v in quotas.get_defaults(with_types=True).items() if k in QUOTA_KEYS | TYPE_KEYS}
    assert {values[k] for k in TYPE_KEYS} == {-1}

    update = {"volumes": values["volumes"] + 1, "gigabytes": values["gigabytes"] + 1, "backups": 3}
    resp = admin_client.put(url(admin_project, "os-quota-class-sets/default"), {"quota_class_set": update},
                            format="json")
    assert resp.status_code == 200, resp.content
    updated = resp.json()["quota_class_set"]
    assert set(updated) == QUOTA_KEYS | TYPE_KEYS and update.items() <= updated.items()
    # a project without its own limits now gets the new defaults (tempest checks the same)
    defaults = member_client.get(url(demo, f"os-quota-sets/{demo.id}/defaults")).json()["quota_set"]
    assert update.items() <= defaults.items()
    mine = member_client.get(url(demo, f"os-quota-sets/{demo.id}")).json()["quota_set"]
    assert mine["volumes"] == update["volumes"]

    for bad in ({"volumes": "x"}, {"volumes": -2}, {"volumes_lvm": 1}, {"cores": 1}):  # no type lvm
        error(admin_client.put(url(admin_project, "os-quota-class-sets/default"), {"quota_class_set": bad},
                               format="json"), 400, "badRequest")
    error(admin_client.put(url(admin_project, "os-quota-class-sets/default"), {"quota_set": {"volumes": 1}},
                           format="json"), 400, "badRequest")
    assert admin_client.get(url(admin_project, "os-quota-class-sets/default")).json()["quota_class_set"][
        "volumes"] == update["volumes"]  # nothing half-written
    other = admin_client.get(url(admin_project, "os-quota-class-sets/gold")).json()["quota_class_set"]
    assert other["id"] == "gold" and other["volumes"] == update["volumes"]
    error(admin_client.put(url(admin_project, "os-quota-class-sets/gold"), {"quota_class_set": {"volumes": 1}},
                           format="json"), 400, "badRequest")
    error(member_client.get(url(demo, "os-quota-class-sets/default")), 403, "forbidden")
    error(member_client.put(url(demo, "os-quota-class-sets/default"), {"quota_class_set": {"volumes": 1}},
                            format="json"), 403, "forbidden")


def test_get_pools(admin_client, admin_project, member_client, demo, volume_host_a):
    body = admin_client.get(url(admin_project, "scheduler-stats/get_pools")).json()
    assert body == {"pools": [{"name": "vol-a@file#file"}]}
    volume = Volume.objects.get(uuid=create(member_client, demo, size=2)["id"])
    assert volume_host.create_volume(volume.id) == "available"
    body = admin_client.get(url(admin_project, "scheduler-stats/get_pools?detail=true")).json()
    (pool,) = body["pools"]
    assert set(pool) == {"name", "capabilities"} and pool["name"] == "vol-a@file#file"
    caps = pool["capabilities"]
    for key, kind in CAPABILITY_TYPES.items():
        assert isinstance(caps[key], kind), key
    assert DATE.match(caps["updated"]) and DATE.match(caps["timestamp"])
    # the host's own report (10 GB file back end), less what the DB places there
    assert caps["total_capacity_gb"] == 10 and caps["allocated_capacity_gb"] == 2
    assert caps["free_capacity_gb"] <= 8 and caps["volume_backend_name"] == "file"
    assert admin_client.get(url(admin_project, "scheduler-stats/get_pools?detail=false")).json() == {
        "pools": [{"name": "vol-a@file#file"}]}
    assert admin_client.get(url(admin_project, "scheduler-stats/get_pools?name=other")).json() == {"pools": []}
    error(admin_client.get(url(admin_project, "scheduler-stats/get_pools?detail=maybe")), 400, "badRequest")
    error(member_client.get(url(demo, "scheduler-stats/get_pools")), 403, "forbidden")


def test_service_actions(admin_client, admin_project, member_client, demo, volume_host_a):
    def put(action, body, client=admin_client, project=admin_project):
        return client.put(url(project, f"os-services/{action}"), body, format="json")

    resp = put("disable-log-reason", {"host": "vol-a", "binary": "cinder-volume", "disabled_reason": "maint"})
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"disabled": True, "status": "disabled", "host": "vol-a", "service": "",
                           "binary": "cinder-volume", "disabled_reason": "maint"}
    (service,) = admin_client.get(url(admin_project, "os-services")).json()["services"]
    assert service["status"] == "disabled" and service["disabled_reason"] == "maint"
    # tempest's list filters: host (or host@backend) and binary
    for query in ("host=vol-a", "host=vol-a@file", "binary=cinder-volume", "host=vol-a&binary=cinder-volume"):
        assert len(admin_client.get(url(admin_project, f"os-services?{query}")).json()["services"]) == 1, query
    for query in ("host=nowhere", "binary=cinder-scheduler"):
        assert admin_client.get(url(admin_project, f"os-services?{query}")).json()["services"] == [], query
    # a disabled host takes no new volume
    resp = member_client.post(url(demo, "volumes"), {"volume": {"size": 1}}, format="json")
    volume = Volume.objects.get(uuid=resp.json()["volume"]["id"])
    assert volume.host is None and volume.status == "error"

    resp = put("enable", {"host": "vol-a@file", "binary": "cinder-volume"})
    assert resp.status_code == 200 and resp.json()["disabled"] is False and resp.json()["disabled_reason"] is None
    assert Service.objects.get(host="vol-a", binary="nova-volume").disabled is False
    resp = put("disable", {"host": "vol-a", "binary": "cinder-volume"})
    assert resp.json()["status"] == "disabled"
    put("enable", {"host": "vol-a", "binary": "cinder-volume"})

    # tempest's test_volume_services_negative
    error(put("enable", {"host": "invalid_host", "binary": "cinder-volume"}), 404, "itemNotFound")
    error(put("disable", {"host": "vol-a", "binary": "invalid_binary"}), 404, "itemNotFound")
    for reason in (None, "", "x" * 256, 5):
        error(put("disable-log-reason", {"host": "vol-a", "binary": "cinder-volume", "disabled_reason": reason}),
              400, "badRequest")
    assert Service.objects.get(host="vol-a", binary="nova-volume").disabled is False
    error(put("freeze", {"host": "invalid_host"}), 400, "badRequest")
    error(put("thaw", {"host": "invalid_host"}), 400, "badRequest")
    error(put("freeze", {}), 400, "badRequest")
    for action in ("freeze", "thaw"):  # no replicating back end: nothing to freeze
        resp = put(action, {"host": "vol-a@file"})
        assert resp.status_code == 200 and resp.content == b""
    error(put("reboot", {"host": "vol-a"}), 404, "itemNotFound")
    error(put("disable", {"host": "vol-a", "binary": "cinder-volume"}, member_client, demo), 403, "forbidden")
    assert Service.objects.get(host="vol-a", binary="nova-volume").disabled is False


QOS_KEYS = {"id", "name", "consumer", "specs"}


def test_qos_specs_crud_and_associations(admin_client, admin_project, member_client, demo):
    def qos(path=""):
        return url(admin_project, "qos-specs" + path)

    resp = admin_client.post(qos(), {"qos_specs": {"name": "gold", "consumer": "front-end",
                                                   "read_iops_sec": "2000"}}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert set(body) == {"qos_specs", "links"} and set(body["qos_specs"]) == QOS_KEYS
    created = body["qos_specs"]
    assert created["name"] == "gold" and created["consumer"] == "front-end"
    assert created["specs"] == {"read_iops_sec": "2000"}
    assert [link["rel"] for link in body["links"]] == ["self", "bookmark"]
    assert body["links"][0]["href"].endswith(f"/volume/v3/{admin_project.id}/qos-specs/{created['id']}")
    qos_id = created["id"]
    assert admin_client.get(qos()).json() == {"qos_specs": [created]}  # tempest: assertIn(created, list)
    shown = admin_client.get(qos(f"/{qos_id}")).json()
    assert shown["qos_specs"] == created and set(shown) == {"qos_specs", "links"}
    # default consumer back-end; bad consumer, missing name, taken name
    other = admin_client.post(qos(), {"qos_specs": {"name": "silver"}}, format="json").json()["qos_specs"]
    assert other["consumer"] == "back-end" and other["specs"] == {}
    error(admin_client.post(qos(), {"qos_specs": {"name": "x", "consumer": "middle"}}, format="json"), 400,
          "badRequest")
    error(admin_client.post(qos(), {"qos_specs": {"consumer": "both"}}, format="json"), 400, "badRequest")
    error(admin_client.post(qos(), {"qos_specs": {"name": "gold"}}, format="json"), 409, "conflictingRequest")
    error(admin_client.post(qos(), {"qos_specs": {"name": "y", "k": {"nested": 1}}}, format="json"), 400,
          "badRequest")

    # set and unset keys
    resp = admin_client.put(qos(f"/{qos_id}"), {"qos_specs": {"iops_bytes": "500"}}, format="json")
    assert resp.status_code == 200 and resp.json() == {"qos_specs": {"iops_bytes": "500"}}
    assert admin_client.get(qos(f"/{qos_id}")).json()["qos_specs"]["specs"] == {"read_iops_sec": "2000",
                                                                                "iops_bytes": "500"}
    resp = admin_client.put(qos(f"/{qos_id}/delete_keys"), {"keys": ["iops_bytes"]}, format="json")
    assert resp.status_code == 202
    assert admin_client.get(qos(f"/{qos_id}")).json()["qos_specs"]["specs"] == {"read_iops_sec": "2000"}
    error(admin_client.put(qos(f"/{qos_id}/delete_keys"), {"keys": ["nope"]}, format="json"), 404, "itemNotFound")

    # associate with three types, disassociate one, then all
    types = []
    for name in ("t1", "t2", "t3"):
        resp = admin_client.post(url(admin_project, "types"), {"volume_type": {"name": name}}, format="json")
        types.append(resp.json()["volume_type"]["id"])
    for type_id in types:
        assert admin_client.get(qos(f"/{qos_id}/associate?vol_type_id={type_id}")).status_code == 202
    body = admin_client.get(qos(f"/{qos_id}/associations")).json()
    assert set(body) == {"qos_associations"}
    assert body["qos_associations"] == [{"association_type": "volume_type", "id": t, "name": n}
                                        for t, n in zip(types, ("t1", "t2", "t3"))]
    assert admin_client.get(url(admin_project, f"types/{types[0]}")).json()["volume_type"]["qos_specs_id"] == qos_id
    # a type has one QoS specs at most
    error(admin_client.get(qos(f"/{other['id']}/associate?vol_type_id={types[0]}")), 400, "badRequest")
    error(admin_client.get(qos(f"/{qos_id}/associate?vol_type_id=nope")), 404, "itemNotFound")
    error(admin_client.get(qos(f"/{qos_id}/associate")), 400, "badRequest")
    # deleting an associated one needs force
    error(admin_client.delete(qos(f"/{qos_id}")), 400, "badRequest")
    assert admin_client.get(qos(f"/{qos_id}/disassociate?vol_type_id={types[0]}")).status_code == 202
    ids = [a["id"] for a in admin_client.get(qos(f"/{qos_id}/associations")).json()["qos_associations"]]
    assert ids == types[1:]
    assert admin_client.get(url(admin_project, f"types/{types[0]}")).json()["volume_type"]["qos_specs_id"] is None
    assert admin_client.get(qos(f"/{qos_id}/disassociate_all")).status_code == 202
    assert admin_client.get(qos(f"/{qos_id}/associations")).json() == {"qos_associations": []}

    # force delete of an associated one clears the type's link
    admin_client.get(qos(f"/{qos_id}/associate?vol_type_id={types[1]}"))
    assert admin_client.delete(qos(f"/{qos_id}?force=true")).status_code == 202
    assert admin_client.get(url(admin_project, f"types/{types[1]}")).json()["volume_type"]["qos_specs_id"] is None
    error(admin_client.get(qos(f"/{qos_id}")), 404, "itemNotFound")
    assert admin_client.delete(qos(f"/{other['id']}")).status_code == 202
    assert admin_client.get(qos()).json() == {"qos_specs": []}
    error(admin_client.get(qos("/00000000-0000-0000-0000-000000000000")), 404, "itemNotFound")
    error(admin_client.get(qos("/not-a-uuid")), 404, "itemNotFound")

    # members: 403 everywhere
    error(member_client.get(url(demo, "qos-specs")), 403, "forbidden")
    error(member_client.post(url(demo, "qos-specs"), {"qos_specs": {"name": "m"}}, format="json"), 403, "forbidden")


def test_private_type_access(admin_client, admin_project, member_client, demo, volume_host_a):
    """Cinder's volume type access (tempest's VolumeTypesAccessTest): a private type is invisible
    and unusable to a project until an admin gives it access, and again after removing it."""
    resp = admin_client.post(url(admin_project, "types"), {"volume_type": {
        "name": "gold", "os-volume-type-access:is_public": False}}, format="json")
    type_id = resp.json()["volume_type"]["id"]
    action, access = url(admin_project, f"types/{type_id}/action"), url(admin_project, f"types/{type_id}/os-volume-type-access")
    error(member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "volume_type": type_id}}, format="json"),
          404, "itemNotFound")
    assert admin_client.get(access).json() == {"volume_type_access": []}

    assert admin_client.post(action, {"addProjectAccess": {"project": demo.id}}, format="json").status_code == 202
    error(admin_client.post(action, {"addProjectAccess": {"project": demo.id}}, format="json"), 409, "conflictingRequest")
    assert admin_client.post(action, {"addProjectAccess": {"project": "b" * 32}}, format="json").status_code == 202
    listed = admin_client.get(access).json()["volume_type_access"]
    assert listed == [{"volume_type_id": type_id, "project_id": pid} for pid in sorted([demo.id, "b" * 32])]
    assert [t["name"] for t in member_client.get(url(demo, "types")).json()["volume_types"]].count("gold") == 1
    volume = create(member_client, demo, volume_type=type_id)
    assert volume["volume_type"] == "gold"
    error(member_client.post(action.replace(admin_project.id, demo.id), {"addProjectAccess": {"project": demo.id}},
                             format="json"), 403, "forbidden")
    error(member_client.get(access.replace(admin_project.id, demo.id)), 403, "forbidden")

    assert admin_client.post(action, {"removeProjectAccess": {"project": demo.id}}, format="json").status_code == 202
    error(admin_client.post(action, {"removeProjectAccess": {"project": demo.id}}, format="json"), 404,
          "itemNotFound")
    assert "gold" not in [t["name"] for t in member_client.get(url(demo, "types")).json()["volume_types"]]
    error(admin_client.post(action, {"grant": {}}, format="json"), 400, "badRequest")
    error(admin_client.post(action, {"addProjectAccess": {"project": 7}}, format="json"), 400, "badRequest")
    public = admin_client.post(url(admin_project, "types"), {"volume_type": {"name": "plain"}}, format="json")
    public_id = public.json()["volume_type"]["id"]
    error(admin_client.post(url(admin_project, f"types/{public_id}/action"), {"addProjectAccess": {"project": demo.id}},
                            format="json"), 409, "conflictingRequest")
    error(admin_client.get(url(admin_project, f"types/{public_id}/os-volume-type-access")), 404, "itemNotFound")
