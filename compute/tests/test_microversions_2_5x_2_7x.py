"""Compute microversions 2.50 to 2.79 (2.52, server tags, is elsewhere) as a client sees them:
each change at its version and not below it, in the shapes of Nova's api_samples. The API's
MAX_VERSION is raised to 2.79 for these tests only (the `latest_2_79` fixture)."""
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from cloudproj.testing.volumes import VOLUME_HOST_A
from cloudproj.testing.servers import API, boot, error, instance, make_active
from compute import states
from compute.models import ComputeNode, Instance, Migration, Service
from compute.services import actions
from compute.services import instances as instance_service
from images.models import Image
from images.services.registry import register_image
from volumes.models import Volume, VolumeAttachment
from volumes.services import attachments as attachment_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tmp_stores(paths):
    """Image store and instances under this test's tmp_path (MAX_VERSION is 2.79)."""


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def call(client, method, path, version, body=None, status=200):
    send = getattr(client, method)
    response = send(f"{API}/{path}", body, format="json", **v(version)) if body is not None else send(
        f"{API}/{path}", **v(version))
    assert response.status_code == status, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json() if response.content else None


def refused(client, method, path, version, body=None, code=400):
    send = getattr(client, method)
    response = send(f"{API}/{path}", body, format="json", **v(version)) if body is not None else send(
        f"{API}/{path}", **v(version))
    return error(response, code)


def action(client, server_id, version, body, status=202):
    return call(client, "post", f"servers/{server_id}/action", version, body, status)


def reset_task(server_id):
    instance_service.update_state(instance(server_id), task_state=None)


NETWORK_QUOTAS = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
INJECTED = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}


def test_2_50_and_2_57_quota_class_sets(admin_client):
    old = call(admin_client, "get", "os-quota-class-sets/default", "2.49")["quota_class_set"]
    assert set(old) >= NETWORK_QUOTAS and not {"server_groups", "server_group_members"} & set(old)
    taken = call(admin_client, "put", "os-quota-class-sets/default", "2.49", {"quota_class_set": {"server_groups": 6}})
    assert "server_groups" not in taken["quota_class_set"]

    new = call(admin_client, "get", "os-quota-class-sets/default", "2.50")["quota_class_set"]
    assert not NETWORK_QUOTAS & set(new) and set(new) >= INJECTED
    assert {"server_groups", "server_group_members", "instances", "cores", "ram"} <= set(new)
    assert new["server_groups"] == 6
    assert "badRequest" in admin_client.put(f"{API}/os-quota-class-sets/default",
                                            {"quota_class_set": {"floating_ips": 5}}, format="json",
                                            **v("2.50")).json()
    changed = call(admin_client, "put", "os-quota-class-sets/default", "2.50",
                   {"quota_class_set": {"server_groups": 7}})["quota_class_set"]
    assert changed["server_groups"] == 7 and "floating_ips" not in changed

    latest = call(admin_client, "get", "os-quota-class-sets/default", "2.57")["quota_class_set"]
    assert not (NETWORK_QUOTAS | INJECTED) & set(latest) and latest["server_groups"] == 7
    refused(admin_client, "put", "os-quota-class-sets/default", "2.57", {"quota_class_set": {"injected_files": 1}})


def test_2_57_quota_sets_and_limits_lose_file_injection(admin_client, member_client, member_account):
    project = member_account[1].id
    assert set(call(member_client, "get", f"os-quota-sets/{project}", "2.56")["quota_set"]) >= INJECTED
    for path in (f"os-quota-sets/{project}", f"os-quota-sets/{project}/defaults", f"os-quota-sets/{project}/detail"):
        shown = call(member_client, "get", path, "2.57")["quota_set"]
        assert not INJECTED & set(shown) and "instances" in shown
    refused(admin_client, "put", f"os-quota-sets/{project}", "2.57", {"quota_set": {"injected_files": 3}})
    assert "injected_files" not in call(admin_client, "put", f"os-quota-sets/{project}", "2.57",
                                        {"quota_set": {"instances": 3}})["quota_set"]

    old = call(member_client, "get", "limits", "2.56")["limits"]["absolute"]
    assert {"maxPersonality", "maxPersonalitySize"} <= set(old)
    new = call(member_client, "get", "limits", "2.57")["limits"]["absolute"]
    assert not {"maxPersonality", "maxPersonalitySize"} & set(new) and new["maxTotalInstances"] == 3


def test_2_54_and_2_57_rebuild_key_name_and_user_data(admin_client, member_client, image):
    key = call(member_client, "post", "os-keypairs", "2.54", {"keypair": {"name": "rebuild-key"}}, status=201)["keypair"]
    server_id = boot(member_client, image, "rb")["server"]["id"]
    make_active(server_id)
    rebuild = {"imageRef": str(image.id)}
    refused(member_client, "post", f"servers/{server_id}/action", "2.53",
            {"rebuild": {**rebuild, "key_name": key["name"]}})
    refused(member_client, "post", f"servers/{server_id}/action", "2.54",
            {"rebuild": {**rebuild, "key_name": "no-such-key"}})
    action(member_client, server_id, "2.54", {"rebuild": {**rebuild, "key_name": key["name"]}})
    assert call(member_client, "get", f"servers/{server_id}", "2.54")["server"]["key_name"] == "rebuild-key"
    assert instance(server_id).key_data == key["public_key"]
    reset_task(server_id)

    user_data = "IyEvYmluL3NoCmVjaG8gaGk="  # base64 of a two-line script
    refused(member_client, "post", f"servers/{server_id}/action", "2.56", {"rebuild": {**rebuild, "user_data": user_data}})
    action(member_client, server_id, "2.57", {"rebuild": {**rebuild, "user_data": user_data, "key_name": None}})
    shown = call(admin_client, "get", f"servers/{server_id}", "2.57")["server"]
    assert shown["OS-EXT-SRV-ATTR:user_data"] == user_data and shown["key_name"] is None
    reset_task(server_id)
    refused(member_client, "post", f"servers/{server_id}/action", "2.57", {"rebuild": {**rebuild, "personality": []}})

    # personality is gone from create too
    body = {"server": {"name": "p", "imageRef": str(image.id), "flavorRef": "1", "personality": [],
                       "networks": "auto"}}  # networks: required from 2.37
    call(member_client, "post", "servers", "2.56", body, status=202)
    assert "personality" in refused(member_client, "post", "servers", "2.57", body)


def test_2_53_services_by_uuid(admin_client, compute_host):
    compute_host("host-a")
    old = call(admin_client, "get", "os-services", "2.52")["services"]
    assert all(isinstance(s["id"], int) for s in old)
    listed = call(admin_client, "get", "os-services?binary=nova-compute", "2.53")["services"]
    compute = Service.objects.get(host="host-a", binary="nova-compute")
    assert [s["id"] for s in listed] == [str(compute.uuid)]

    path = f"os-services/{compute.uuid}"
    answer = call(admin_client, "put", path, "2.53", {"status": "disabled", "disabled_reason": "maintenance"})
    assert answer["service"] == {**listed[0], "status": "disabled", "disabled_reason": "maintenance",
                                 "updated_at": answer["service"]["updated_at"]}
    answer = call(admin_client, "put", path, "2.53", {"forced_down": True})["service"]
    assert answer["forced_down"] is True and answer["state"] == "down" and answer["status"] == "disabled"
    answer = call(admin_client, "put", path, "2.53", {"status": "enabled", "forced_down": False})["service"]
    assert (answer["status"], answer["disabled_reason"], answer["forced_down"]) == ("enabled", None, False)
    assert "enabled" in refused(admin_client, "put", path, "2.53", {"status": "enabled", "disabled_reason": "x"})
    refused(admin_client, "put", path, "2.53", {})
    refused(admin_client, "put", path, "2.53", {"status": "up"})
    network = Service.objects.get(host="host-a", binary="nova-network")
    assert "nova-compute" in refused(admin_client, "put", f"os-services/{network.uuid}", "2.53", {"status": "disabled"})
    assert "Invalid uuid" in refused(admin_client, "put", "os-services/disable", "2.53",
                                     {"host": "host-a", "binary": "nova-compute"})
    refused(admin_client, "put", "os-services/8a1f5e42-0000-4000-8000-000000000000", "2.53", {"status": "disabled"},
            code=404)
    # the 2.1 body below 2.53
    call(admin_client, "put", "os-services/disable", "2.52", {"host": "host-a", "binary": "nova-compute"})

    refused(admin_client, "delete", f"os-services/{network.id}", "2.53")
    call(admin_client, "delete", f"os-services/{network.uuid}", "2.53", status=204)
    assert not Service.objects.filter(pk=network.pk).exists()


def test_2_53_and_2_75_hypervisors_by_uuid(admin_client, member_client, compute_host, image):
    compute_host("host-a")
    compute_host("host-b")
    node_a, node_b = ComputeNode.objects.get(host="host-a"), ComputeNode.objects.get(host="host-b")
    server_id = boot(member_client, image, "on-a")["server"]["id"]
    Instance.objects.filter(uuid=server_id).update(host="host-a", node=node_a.hypervisor_hostname)

    old = call(admin_client, "get", "os-hypervisors", "2.52")["hypervisors"]
    assert [h["id"] for h in old] == [node_a.id, node_b.id]
    assert call(admin_client, "get", f"os-hypervisors/{node_a.hypervisor_hostname}/search", "2.52")["hypervisors"]
    new = call(admin_client, "get", "os-hypervisors", "2.53")["hypervisors"]
    assert [h["id"] for h in new] == [str(node_a.uuid), str(node_b.uuid)]
    detail = call(admin_client, "get", "os-hypervisors/detail", "2.53")["hypervisors"][0]
    assert detail["service"]["id"] == str(node_a.service.uuid)
    refused(admin_client, "get", f"os-hypervisors/{node_a.hypervisor_hostname}/search", "2.53", code=404)
    refused(admin_client, "get", f"os-hypervisors/{node_a.hypervisor_hostname}/servers", "2.53", code=404)

    matching = call(admin_client, "get", f"os-hypervisors?hypervisor_hostname_pattern={node_a.hypervisor_hostname}",
                    "2.53")["hypervisors"]
    assert [h["id"] for h in matching] == [str(node_a.uuid)]
    refused(admin_client, "get", "os-hypervisors?hypervisor_hostname_pattern=nowhere", "2.53", code=404)
    refused(admin_client, "get", "os-hypervisors?hypervisor_hostname_pattern=host&limit=1", "2.53")

    row = instance(server_id)
    servers = call(admin_client, "get", "os-hypervisors/detail?with_servers=true", "2.53")["hypervisors"]
    assert servers[0]["servers"] == [{"name": row.name, "uuid": server_id}] and "servers" not in servers[1]
    servers = call(admin_client, "get", "os-hypervisors?with_servers=true", "2.75")["hypervisors"]
    assert servers[1]["servers"] == [] and len(servers[0]["servers"]) == 1
    assert "servers" not in call(admin_client, "get", "os-hypervisors", "2.75")["hypervisors"][0]

    shown = call(admin_client, "get", f"os-hypervisors/{node_b.uuid}?with_servers=1", "2.75")["hypervisor"]
    assert shown["id"] == str(node_b.uuid) and shown["servers"] == []
    assert "Invalid uuid" in refused(admin_client, "get", f"os-hypervisors/{node_b.id}", "2.53")
    assert call(admin_client, "get", f"os-hypervisors/{node_b.id}", "2.52")["hypervisor"]["id"] == node_b.id


def test_2_55_2_61_2_75_flavors(admin_client, member_client, image):
    create = {"flavor": {"name": "described", "ram": 64, "vcpus": 1, "disk": 0, "id": "dsc", "description": "small"}}
    refused(admin_client, "post", "flavors", "2.54", create)
    made = call(admin_client, "post", "flavors", "2.55", create)["flavor"]
    assert made["description"] == "small" and made["swap"] == "" and "extra_specs" not in made
    refused(admin_client, "put", "flavors/dsc", "2.54", {"flavor": {"description": "x"}}, code=404)
    refused(member_client, "put", "flavors/dsc", "2.55", {"flavor": {"description": "x"}}, code=403)
    refused(admin_client, "put", "flavors/dsc", "2.55", {"flavor": {"description": "bad\u0000char"}})
    refused(admin_client, "put", "flavors/dsc", "2.55", {"flavor": {"name": "renamed"}})
    updated = call(admin_client, "put", "flavors/dsc", "2.55", {"flavor": {"description": "tiny"}})["flavor"]
    assert updated["description"] == "tiny" and updated["name"] == "described"

    listed = call(member_client, "get", "flavors", "2.55")["flavors"]
    assert {"id": "dsc", "name": "described", "description": "tiny", "links": made["links"]} in listed
    assert "description" not in call(member_client, "get", "flavors", "2.54")["flavors"][0]
    assert "description" not in call(member_client, "get", "flavors/dsc", "2.54")["flavor"]

    call(admin_client, "post", "flavors/dsc/os-extra_specs", "2.61", {"extra_specs": {"hw:cpu_policy": "shared"}})
    assert "extra_specs" not in call(member_client, "get", "flavors/dsc", "2.60")["flavor"]
    shown = call(member_client, "get", "flavors/dsc", "2.61")["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "shared"} and shown["swap"] == ""
    detail = call(member_client, "get", "flavors/detail", "2.61")["flavors"]
    assert all("extra_specs" in f for f in detail)
    assert call(member_client, "get", "flavors/dsc", "2.75")["flavor"]["swap"] == 0


def test_2_58_2_62_2_66_instance_actions(admin_client, member_client, image):
    server_id = boot(member_client, image, "acts")["server"]["id"]
    make_active(server_id, host="host-a")
    for body in ({"lock": None}, {"unlock": None}):
        action(member_client, server_id, "2.58", body)
    path = f"servers/{server_id}/os-instance-actions"
    old = call(member_client, "get", path, "2.57")["instanceActions"]
    assert [a["action"] for a in old] == ["unlock", "lock", "create"] and "updated_at" not in old[0]

    first = call(member_client, "get", f"{path}?limit=1", "2.58")
    assert [a["action"] for a in first["instanceActions"]] == ["unlock"]
    assert "updated_at" in first["instanceActions"][0]
    (link,) = first["links"]
    assert link["rel"] == "next" and f"marker={old[0]['request_id']}" in link["href"]
    rest = call(member_client, "get", f"{path}?marker={old[0]['request_id']}", "2.58")
    assert [a["action"] for a in rest["instanceActions"]] == ["lock", "create"] and "links" not in rest
    refused(member_client, "get", f"{path}?marker=req-nowhere", "2.58")
    later = (timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert call(member_client, "get", f"{path}?changes-since={later}", "2.58")["instanceActions"] == []
    assert len(call(member_client, "get", f"{path}?changes-before={earlier}", "2.65")["instanceActions"]) == 3
    assert call(member_client, "get", f"{path}?changes-before={earlier}", "2.66")["instanceActions"] == []
    assert len(call(member_client, "get", f"{path}?changes-before={later}", "2.66")["instanceActions"]) == 3
    refused(member_client, "get", f"{path}?changes-since={later}&changes-before={earlier}", "2.66")

    # a step the host recorded: its hostId for everyone from 2.62, its host for admins
    lock = actions.get_action(instance(server_id), old[1]["request_id"])
    actions.event_finish(actions.event_start(lock, "compute_lock_instance", host="host-a"))
    url = f"{path}/{old[1]['request_id']}"
    assert "hostId" not in call(member_client, "get", url, "2.61")["instanceAction"]["events"][0]
    (event,) = call(member_client, "get", url, "2.62")["instanceAction"]["events"]
    server = call(member_client, "get", f"servers/{server_id}", "2.62")["server"]
    assert event["hostId"] == server["hostId"] != "" and "host" not in event
    (event,) = call(admin_client, "get", url, "2.62")["instanceAction"]["events"]
    assert event["host"] == "host-a" and event["hostId"] == server["hostId"]


def test_2_59_2_66_migrations(admin_client):
    now = timezone.now()
    rows = [Migration.objects.create(instance_uuid="9128d044-7b61-403e-b766-7547076ff6c1", source_compute="a",
                                     dest_compute="b", status="finished", migration_type="migration",
                                     created_at=now - timedelta(minutes=10 - i), updated_at=now - timedelta(minutes=10 - i))
            for i in range(3)]
    old = call(admin_client, "get", "os-migrations?whatever=1", "2.58")["migrations"]
    assert [m["id"] for m in old] == [r.pk for r in reversed(rows)] and "uuid" not in old[0]

    first = call(admin_client, "get", "os-migrations?limit=2", "2.59")
    assert [m["uuid"] for m in first["migrations"]] == [str(rows[2].uuid), str(rows[1].uuid)]
    assert f"marker={rows[1].uuid}" in first["migrations_links"][0]["href"]
    rest = call(admin_client, "get", f"os-migrations?limit=2&marker={rows[1].uuid}", "2.59")
    assert [m["id"] for m in rest["migrations"]] == [rows[0].pk] and "migrations_links" not in rest
    refused(admin_client, "get", "os-migrations?marker=8a1f5e42-0000-4000-8000-000000000000", "2.59")
    assert "whatever" in refused(admin_client, "get", "os-migrations?whatever=1", "2.59")
    since = (now - timedelta(minutes=9)).strftime("%Y-%m-%dT%H:%M:%S")
    assert len(call(admin_client, "get", f"os-migrations?changes-since={since}", "2.59")["migrations"]) == 2
    refused(admin_client, "get", f"os-migrations?changes-before={since}", "2.65")
    before = call(admin_client, "get", f"os-migrations?changes-before={since}", "2.66")["migrations"]
    assert [m["id"] for m in before] == [rows[0].pk]


def test_2_64_server_groups_policy_and_rules(member_client, member_account):
    user, project, _token = member_account
    req = {"server_group": {"name": "spread", "policy": "anti-affinity", "rules": {"max_server_per_host": 3}}}
    refused(member_client, "post", "os-server-groups", "2.63", req)
    made = call(member_client, "post", "os-server-groups", "2.64", req)["server_group"]
    # doc/api_samples/os-server-groups/v2.64/server-groups-post-resp.json
    assert made == {"id": made["id"], "name": "spread", "policy": "anti-affinity", "rules": {"max_server_per_host": 3},
                    "members": [], "project_id": project.id, "user_id": user.id}
    assert call(member_client, "get", f"os-server-groups/{made['id']}", "2.64")["server_group"] == made
    assert call(member_client, "get", "os-server-groups", "2.64")["server_groups"] == [made]
    old = call(member_client, "get", f"os-server-groups/{made['id']}", "2.63")["server_group"]
    assert old["policies"] == ["anti-affinity"] and "rules" not in old
    plain = call(member_client, "post", "os-server-groups", "2.64",
                 {"server_group": {"name": "near", "policy": "soft-affinity"}})["server_group"]
    assert plain["rules"] == {} and "policies" not in plain and "metadata" not in plain
    for bad in ({"name": "x", "policies": ["affinity"]}, {"name": "x", "policy": "affinity",
                                                          "rules": {"max_server_per_host": 2}},
                {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}},
                {"name": "x", "policy": "sideways"}):
        refused(member_client, "post", "os-server-groups", "2.64", {"server_group": bad})


def test_2_71_2_73_2_75_one_server_answers(admin_client, member_client, image):
    group = call(member_client, "post", "os-server-groups", "2.64",
                 {"server_group": {"name": "g", "policy": "affinity"}})["server_group"]
    server_id = boot(member_client, image, "grouped", hints={"group": group["id"]})["server"]["id"]
    make_active(server_id)
    url = f"servers/{server_id}"
    assert "server_groups" not in call(member_client, "get", url, "2.70")["server"]
    assert call(member_client, "get", url, "2.71")["server"]["server_groups"] == [group["id"]]
    assert "server_groups" not in call(member_client, "get", "servers/detail", "2.71")["servers"][0]

    # 2.73: a reason to lock, shown with the server; the `locked` filter
    refused(member_client, "post", f"{url}/action", "2.72", {"lock": {"locked_reason": "audit"}})
    assert call(member_client, "get", url, "2.73")["server"]["locked_reason"] is None
    action(member_client, server_id, "2.73", {"lock": {"locked_reason": "audit"}})
    shown = call(member_client, "get", url, "2.73")["server"]
    assert shown["locked"] is True and shown["locked_reason"] == "audit"
    assert "locked_reason" not in call(member_client, "get", url, "2.72")["server"]
    other = boot(member_client, image, "free")["server"]["id"]
    assert [s["id"] for s in call(member_client, "get", "servers?locked=true", "2.73")["servers"]] == [server_id]
    assert [s["id"] for s in call(member_client, "get", "servers?locked=0", "2.73")["servers"]] == [other]
    assert len(call(member_client, "get", "servers?locked=true", "2.72")["servers"]) == 2
    refused(member_client, "get", "servers?locked=maybe", "2.73")
    action(member_client, server_id, "2.73", {"unlock": None})

    # update answers: brief below 2.75, the whole server from 2.75 (groups from 2.71)
    brief = call(member_client, "put", url, "2.74", {"server": {"name": "renamed"}})["server"]
    assert "OS-EXT-STS:vm_state" not in brief and brief["server_groups"] == [group["id"]]
    assert brief["locked_reason"] is None
    full = call(member_client, "put", url, "2.75", {"server": {"name": "renamed"}})["server"]
    assert full == call(member_client, "get", url, "2.75")["server"]
    rebuilt = action(member_client, server_id, "2.75", {"rebuild": {"imageRef": str(image.id)}})["server"]
    assert {"OS-EXT-STS:vm_state", "key_name", "server_groups", "adminPass"} <= set(rebuilt)


def test_2_63_trusted_image_certificates(member_client, image):
    certs = ["0b5d2c72-12cc-4ba6-a8d7-3ff5cc1d8cb8", "674736e3-f25c-405c-8362-bbf991e0ce0a"]
    body = {"server": {"name": "trusted", "imageRef": str(image.id), "flavorRef": "1", "networks": "auto",
                       "trusted_image_certificates": certs}}
    refused(member_client, "post", "servers", "2.62", body)
    for bad in ([], ["a", "a"], [""], "cert", [1]):
        refused(member_client, "post", "servers", "2.63", {"server": {**body["server"], "trusted_image_certificates": bad}})
    server_id = call(member_client, "post", "servers", "2.63", body, status=202)["server"]["id"]
    assert call(member_client, "get", f"servers/{server_id}", "2.63")["server"]["trusted_image_certificates"] == certs
    assert "trusted_image_certificates" not in call(member_client, "get", f"servers/{server_id}", "2.62")["server"]
    make_active(server_id)
    rebuilt = action(member_client, server_id, "2.63",
                     {"rebuild": {"imageRef": str(image.id), "trusted_image_certificates": None}})["server"]
    assert rebuilt["trusted_image_certificates"] is None
    plain = boot(member_client, image, "plain")["server"]["id"]
    assert call(member_client, "get", f"servers/{plain}", "2.63")["server"]["trusted_image_certificates"] is None


def test_2_67_block_device_mapping_volume_type(member_client, image):
    mapping = {"boot_index": 0, "uuid": str(image.id), "source_type": "image", "destination_type": "volume",
               "volume_size": 1, "volume_type": "no-such-type"}
    body = {"server": {"name": "typed", "flavorRef": "1", "block_device_mapping_v2": [mapping],
                       "networks": "auto"}}
    assert "volume_type" in refused(member_client, "post", "servers", "2.66", body)
    assert "no-such-type could not be found" in refused(member_client, "post", "servers", "2.67", body)
    local = {**mapping, "destination_type": "local", "volume_type": "__DEFAULT__"}
    refused(member_client, "post", "servers", "2.67", {"server": {**body["server"], "block_device_mapping_v2": [local]}})


def test_2_74_create_on_a_requested_host(admin_client, member_client, compute_host, image):
    compute_host("host-a")
    node = ComputeNode.objects.get(host="host-a")
    body = {"server": {"name": "placed", "imageRef": str(image.id), "flavorRef": "1", "host": "host-a",
                       "networks": "auto"}}
    assert "host" in refused(admin_client, "post", "servers", "2.73", body)
    refused(member_client, "post", "servers", "2.74", body, code=403)
    assert "nowhere" in refused(admin_client, "post", "servers", "2.74", {"server": {**body["server"], "host": "nowhere"}})
    refused(admin_client, "post", "servers", "2.74",
            {"server": {**body["server"], "hypervisor_hostname": "other-node"}})
    refused(admin_client, "post", "servers", "2.74",
            {"server": {**body["server"], "availability_zone": "nova:host-a"}})
    made = call(admin_client, "post", "servers", "2.74",
                {"server": {**body["server"], "hypervisor_hostname": node.hypervisor_hostname}}, status=202)
    # the scheduler is restricted to that host (its filters still run)
    assert instance(made["server"]["id"]).scheduler_hints["_force_hosts"] == ["host-a"]


def test_2_51_2_76_external_event_names(admin_client, member_client, image):
    server_id = boot(member_client, image, "evented")["server"]["id"]
    make_active(server_id, host="host-a")
    extended = {"events": [{"name": "volume-extended", "server_uuid": server_id, "tag": "vdb"}]}
    refused(admin_client, "post", "os-server-external-events", "2.50", extended)
    answer = call(admin_client, "post", "os-server-external-events", "2.51", extended)
    assert answer["events"][0]["code"] == 200 and answer["events"][0]["status"] == "completed"

    power = {"events": [{"name": "power-update", "server_uuid": server_id, "tag": "POWER_OFF"}]}
    refused(admin_client, "post", "os-server-external-events", "2.75", power)
    assert call(admin_client, "post", "os-server-external-events", "2.76", power)["events"][0]["code"] == 200
    for tag in (None, "POWER_SAVE"):
        event = {"name": "power-update", "server_uuid": server_id, **({"tag": tag} if tag else {})}
        refused(admin_client, "post", "os-server-external-events", "2.76", {"events": [event]})
    refused(admin_client, "post", "os-server-external-events", "2.79",
            {"events": [{"name": "volume-reimaged", "server_uuid": server_id}]})


def test_2_68_no_forced_evacuation_or_live_migration(admin_client, member_client, image):
    server_id = boot(member_client, image, "moved")["server"]["id"]
    make_active(server_id)
    for body in ({"evacuate": {"host": "host-b", "force": True}}, {"os-migrateLive": {"host": "host-b", "force": True,
                                                                                        "block_migration": "auto"}}):
        assert "2.68" in refused(admin_client, "post", f"servers/{server_id}/action", "2.68", body)


def test_2_77_unshelve_to_an_availability_zone(member_client, compute_host, image):
    compute_host("host-a", zone="zone-a")
    server_id = boot(member_client, image, "shelved")["server"]["id"]
    make_active(server_id)
    instance_service.update_state(instance(server_id), vm_state=states.SHELVED, power_state=4)
    unshelve = {"unshelve": {"availability_zone": "zone-a"}}
    refused(member_client, "post", f"servers/{server_id}/action", "2.76", unshelve)
    refused(member_client, "post", f"servers/{server_id}/action", "2.77", unshelve, code=409)

    # offloaded (no host), with its shelved image: scheduled again in the zone asked for
    instance_service.update_state(instance(server_id), vm_state=states.SHELVED_OFFLOADED, host=None, node=None)
    register_image(io.BytesIO(b"x" * 4096), "shelved-snap", disk_format="raw", visibility=Image.PRIVATE,
                   properties={"shelved_instance": server_id})
    refused(member_client, "post", f"servers/{server_id}/action", "2.77",
            {"unshelve": {"availability_zone": "zone-z"}})
    refused(member_client, "post", f"servers/{server_id}/action", "2.77", {"unshelve": {"zone": "zone-a"}})
    action(member_client, server_id, "2.77", unshelve)
    shown = call(member_client, "get", f"servers/{server_id}", "2.77")["server"]
    assert shown["OS-EXT-AZ:availability_zone"] == "zone-a" and shown["OS-EXT-STS:task_state"] == "unshelving"


def test_2_78_topology(admin_client, member_client, image):
    server_id = boot(member_client, image, "topo")["server"]["id"]
    refused(member_client, "get", f"servers/{server_id}/topology", "2.77", code=404)
    # no guest here has NUMA cells: Nova's answer for such a server
    assert call(member_client, "get", f"servers/{server_id}/topology", "2.78") == {"nodes": [], "pagesize_kb": None}
    assert call(admin_client, "get", f"servers/{server_id}/topology", "2.78") == {"nodes": [], "pagesize_kb": None}
    refused(member_client, "get", "servers/8a1f5e42-0000-4000-8000-000000000000/topology", "2.78", code=404)


def test_2_70_2_79_volume_attachment_tag_and_delete_on_termination(member_client, member_account, image,
                                                                   volume_host_a):
    user, project, _token = member_account
    server_id = boot(member_client, image, "attached")["server"]["id"]
    make_active(server_id)
    volume = Volume.objects.create(project_id=project.id, user_id=user.id, size=1, status="in-use", host=VOLUME_HOST_A)
    # as the attach leaves it once the server's host attached the disk
    VolumeAttachment.objects.create(volume=volume, instance_uuid=server_id, instance_host="host-a", device="/dev/vdb",
                                    tag="data", delete_on_termination=True, attached_at=timezone.now())
    url = f"servers/{server_id}/os-volume_attachments"
    base = {"id": str(volume.uuid), "volumeId": str(volume.uuid), "serverId": server_id, "device": "/dev/vdb"}
    assert call(member_client, "get", url, "2.69")["volumeAttachments"] == [base]
    assert call(member_client, "get", url, "2.70")["volumeAttachments"] == [{**base, "tag": "data"}]
    assert call(member_client, "get", f"{url}/{volume.uuid}", "2.79")["volumeAttachment"] == {
        **base, "tag": "data", "delete_on_termination": True}

    other = Volume.objects.create(project_id=project.id, user_id=user.id, size=1, status="available", host=VOLUME_HOST_A)
    attach = {"volumeAttachment": {"volumeId": str(other.uuid), "delete_on_termination": True}}
    assert "delete_on_termination" in refused(member_client, "post", url, "2.78", attach)
    refused(member_client, "post", url, "2.79", {"volumeAttachment": {**attach["volumeAttachment"],
                                                                       "delete_on_termination": "perhaps"}})
    refused(member_client, "post", url, "2.79", {"volumeAttachment": {"volumeId": str(other.uuid), "tag": "a/b"}})
    assert not VolumeAttachment.objects.filter(volume=other).exists()

    # the server goes: a volume attached with delete_on_termination goes with it, another stays
    VolumeAttachment.objects.create(volume=other, instance_uuid=server_id, instance_host="host-a", device="/dev/vdc",
                                    attached_at=timezone.now())
    Volume.objects.filter(pk=other.pk).update(status="in-use")
    attachment_service.on_instance_deleted(instance(server_id))
    volume.refresh_from_db()
    other.refresh_from_db()
    assert volume.status == "deleting" and other.status == "available"


def test_2_56_migrate_to_a_host_and_2_66_servers_changed_before(admin_client, member_client, image):
    server_id = boot(member_client, image, "mig")["server"]["id"]
    make_active(server_id)
    assert "migrate" in refused(admin_client, "post", f"servers/{server_id}/action", "2.55", {"migrate": {"host": "x"}})
    assert "nowhere" in refused(admin_client, "post", f"servers/{server_id}/action", "2.56",
                                {"migrate": {"host": "nowhere"}})

    earlier = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(call(member_client, "get", f"servers?changes-before={earlier}", "2.65")["servers"]) == 1
    assert call(member_client, "get", f"servers?changes-before={earlier}", "2.66")["servers"] == []
    assert [s["id"] for s in call(member_client, "get", f"servers/detail?changes-before={later}", "2.66")["servers"]
            ] == [server_id]
    refused(member_client, "get", f"servers?changes-since={later}&changes-before={earlier}", "2.66")
    refused(member_client, "get", "servers?changes-before=yesterday", "2.66")


def test_2_75_unknown_query_parameters(admin_client, member_client, compute_host, image):
    compute_host("host-a")
    boot(member_client, image, "listed")
    for path in ("servers?colour=red", "servers/detail?sort_key=memory_mb"):
        assert len(call(member_client, "get", path, "2.74")["servers"]) == 1
        refused(member_client, "get", path, "2.75")
    assert len(call(member_client, "get", "servers?sort_key=locked&name=list&limit=5", "2.75")["servers"]) == 1
    assert len(call(admin_client, "get", "os-services?colour=red", "2.74")["services"]) == 3
    refused(admin_client, "get", "os-services?colour=red", "2.75")
    assert len(call(admin_client, "get", "os-services?binary=nova-compute", "2.75")["services"]) == 1
