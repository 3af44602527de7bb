"""Compute microversions 2.20 to 2.29 as a client sees them: each step's request and body
changes at its version and not below it (Nova's api_samples and request schemas)."""
import json

import pytest

from cloudproj.testing.factories import make_instance
from cloudproj.testing.servers import API
from cloudproj.testing.volumes import VOLUME_HOST_A, create
from compute import states
from compute.models import Instance, InstanceResize
from volumes.models import Volume, VolumeAttachment
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def call(method, path, version, body=None, status=200):
    args = (f"{API}/{path}", body) if body is not None else (f"{API}/{path}",)
    response = method(*args, format="json", **v(version))
    assert response.status_code == status, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json() if response.content else None


def assert_live_migrate_answer(admin_client, member_account, compute_host, version, body, status):
    """os-migrateLive of an ACTIVE server on host-a (host-b up beside it) at `version`: 202 and
    the server MIGRATING, or 400 and the server untouched."""
    user, project, _token = member_account
    for host in ("host-a", "host-b"):
        compute_host(host)
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    answer = call(admin_client.post, f"servers/{server.uuid}/action", version, {"os-migrateLive": body},
                  status=status)
    server.refresh_from_db()
    if status == 202:
        assert answer is None and server.task_state == states.task.MIGRATING
    else:
        assert "badRequest" in answer and server.task_state is None


def test_2_20_volumes_attach_to_and_detach_from_shelved_offloaded_servers(member_client, member_account,
                                                                          volume_host_a):
    from volumes.services.attachments_host import disks_of_instance

    user, project, _token = member_account
    server = make_instance(project, user, host=None, vm_state=states.SHELVED_OFFLOADED, task_state=None)
    volume_id = create(member_client, project)["id"]
    assert volume_host.create_volume(Volume.objects.get(uuid=volume_id).id) == "available"  # the host's part
    path = f"servers/{server.uuid}/os-volume_attachments"
    body = {"volumeAttachment": {"volumeId": volume_id}}

    assert "conflictingRequest" in call(member_client.post, path, "2.19", body, status=409)
    attached = call(member_client.post, path, "2.20", body)["volumeAttachment"]
    # recorded only: no host holds it, so no device yet (Nova answers device null the same way)
    assert attached == {"id": volume_id, "volumeId": volume_id, "serverId": str(server.uuid), "device": None}
    assert Volume.objects.get(uuid=volume_id).status == "in-use"
    assert call(member_client.get, path, "2.20")["volumeAttachments"] == [attached]
    assert "conflictingRequest" in call(member_client.delete, f"{path}/{volume_id}", "2.19", status=409)
    assert call(member_client.delete, f"{path}/{volume_id}", "2.20", status=202) is None
    assert Volume.objects.get(uuid=volume_id).status == "available"
    assert call(member_client.get, path, "2.20")["volumeAttachments"] == []

    # attached while offloaded, then unshelved onto the volume's host: the domain gets the disk
    call(member_client.post, path, "2.20", body)
    Instance.objects.filter(pk=server.pk).update(host=VOLUME_HOST_A, vm_state=states.SHELVED_OFFLOADED,
                                                 task_state="unshelving")
    server.refresh_from_db()
    (disk,) = disks_of_instance(server)
    assert disk["target"] == "vdb" and disk["serial"] == volume_id[:20]
    assert VolumeAttachment.objects.get(volume__uuid=volume_id).instance_host == VOLUME_HOST_A
    assert call(member_client.get, path, "2.20")["volumeAttachments"][0]["device"] == "/dev/vdb"


def test_2_21_actions_of_a_deleted_server(member_client, member_account):
    from django.utils import timezone

    from compute.services import actions

    user, project, _token = member_account
    server = make_instance(project, user, vm_state=states.ACTIVE, task_state=None)
    actions.start_action(server, "create", request_id="req-create", user_id=user.id, project_id=project.id)
    actions.start_action(server, "delete", request_id="req-delete", user_id=user.id, project_id=project.id)
    Instance.all_objects.filter(pk=server.pk).update(vm_state=states.DELETED, deleted_at=timezone.now())
    path = f"servers/{server.uuid}/os-instance-actions"

    assert "itemNotFound" in call(member_client.get, path, "2.20", status=404)
    assert "itemNotFound" in call(member_client.get, f"{path}/req-delete", "2.20", status=404)
    listed = call(member_client.get, path, "2.21")["instanceActions"]
    assert [a["action"] for a in listed] == ["delete", "create"]
    shown = call(member_client.get, f"{path}/req-delete", "2.21")["instanceAction"]
    assert shown["action"] == "delete" and shown["instance_uuid"] == str(server.uuid) and shown["events"] == []


@pytest.fixture
def live_migrating(member_account):
    """A server's running live migration (its record as compute/services/live_migration.py
    keeps it) and a finished cold migration; the server's task_state is set by each test."""
    from compute.scheduling_models import Migration

    user, project, _token = member_account
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    cold = Migration.objects.create(instance_uuid=server.uuid, source_compute="host-a", dest_compute="host-b",
                                    status="confirmed", migration_type="migration")
    live = Migration.objects.create(instance_uuid=server.uuid, source_compute="host-a", source_node="host-a",
                                    dest_compute="host-b", dest_node="host-b", dest_host="10.0.0.2",
                                    status="running", migration_type="live-migration")
    InstanceResize.objects.create(instance=server, kind=InstanceResize.LIVE, request_id="req-live",
                                  old_vm_state=states.ACTIVE, source_host="host-a", dest_host="host-b",
                                  migration_id=live.pk)
    return server, live, cold


def test_2_22_force_complete_a_live_migration(admin_client, member_client, live_migrating):
    server, live, cold = live_migrating
    path = f"servers/{server.uuid}/migrations/{live.pk}/action"
    body = {"force_complete": None}
    assert "itemNotFound" in call(admin_client.post, path, "2.21", body, status=404)
    assert "badRequest" in call(admin_client.post, path, "2.22", {"force_complete": {}}, status=400)
    assert "forbidden" in call(member_client.post, path, "2.22", body, status=403)
    # not live-migrating: 409
    assert "conflictingRequest" in call(admin_client.post, path, "2.22", body, status=409)
    Instance.objects.filter(pk=server.pk).update(task_state="migrating")
    cold_path = f"servers/{server.uuid}/migrations/{cold.pk}/action"
    assert "badRequest" in call(admin_client.post, cold_path, "2.22", body, status=400)
    assert admin_client.post(f"{API}/{path}", body, format="json", **v("2.22")).status_code == 202
    assert InstanceResize.objects.get(instance=server).live_request == "force_complete"


def test_2_23_migrations_with_type_and_links_and_a_server_s_migrations(admin_client, member_client,
                                                                       live_migrating):
    server, live, cold = live_migrating
    old = call(admin_client.get, "os-migrations", "2.22")["migrations"]
    assert [m["id"] for m in old] == [live.pk, cold.pk]
    assert all("migration_type" not in m and "links" not in m for m in old)
    new = {m["id"]: m for m in call(admin_client.get, "os-migrations", "2.23")["migrations"]}
    assert new[cold.pk]["migration_type"] == "migration" and "links" not in new[cold.pk]
    assert new[live.pk]["migration_type"] == "live-migration"
    assert [link["href"].split("/compute")[1] for link in new[live.pk]["links"]] == [
        f"/v2.1/servers/{server.uuid}/migrations/{live.pk}", f"/servers/{server.uuid}/migrations/{live.pk}"]

    path = f"servers/{server.uuid}/migrations"
    assert "itemNotFound" in call(admin_client.get, path, "2.22", status=404)
    assert "forbidden" in call(member_client.get, path, "2.23", status=403)
    (listed,) = call(admin_client.get, path, "2.23")["migrations"]
    # doc/api_samples/server-migrations/v2.23/migrations-index.json (progress counters: null here)
    assert listed == {
        "id": live.pk, "server_uuid": str(server.uuid), "status": "running", "source_compute": "host-a",
        "source_node": "host-a", "dest_compute": "host-b", "dest_node": "host-b", "dest_host": "10.0.0.2",
        "memory_total_bytes": None, "memory_processed_bytes": None, "memory_remaining_bytes": None,
        "disk_total_bytes": None, "disk_processed_bytes": None, "disk_remaining_bytes": None,
        "created_at": listed["created_at"], "updated_at": None}
    assert call(admin_client.get, f"{path}/{live.pk}", "2.23")["migration"] == listed
    for other in (cold.pk, 999999, "x"):
        assert "itemNotFound" in call(admin_client.get, f"{path}/{other}", "2.23", status=404)


def test_2_24_abort_a_live_migration(admin_client, live_migrating):
    server, live, cold = live_migrating
    path = f"servers/{server.uuid}/migrations"
    assert "itemNotFound" in call(admin_client.delete, f"{path}/{live.pk}", "2.23", status=404)
    assert "conflictingRequest" in call(admin_client.delete, f"{path}/{live.pk}", "2.24", status=409)
    Instance.objects.filter(pk=server.pk).update(task_state="migrating")
    assert "itemNotFound" in call(admin_client.delete, f"{path}/999999", "2.24", status=404)
    assert "badRequest" in call(admin_client.delete, f"{path}/{cold.pk}", "2.24", status=400)
    assert admin_client.delete(f"{API}/{path}/{live.pk}", **v("2.24")).status_code == 202
    assert InstanceResize.objects.get(instance=server).live_request == "abort"


@pytest.mark.parametrize("version, body, status", [
    # 2.1-2.24: block_migration, disk_over_commit and host, all required; no "auto"
    ("2.24", {"host": None, "block_migration": True, "disk_over_commit": False}, 202),
    ("2.24", {"host": None, "block_migration": False, "disk_over_commit": False}, 400),  # no shared storage
    ("2.24", {"host": None, "block_migration": "auto", "disk_over_commit": False}, 400),
    ("2.24", {"host": None, "block_migration": False}, 400),
    # 2.25: no disk_over_commit, block_migration may be "auto"
    ("2.25", {"host": None, "block_migration": "auto"}, 202),
    ("2.25", {"host": "host-b", "block_migration": True}, 202),
    ("2.25", {"host": None, "block_migration": False, "disk_over_commit": False}, 400),
    ("2.25", {"host": None, "block_migration": "sometimes"}, 400),
    ("2.25", {"block_migration": "auto"}, 400),
    ("2.25", {"host": None, "block_migration": "auto", "force": True}, 400),  # force only from 2.30
])
def test_2_25_live_migrate_request_bodies(admin_client, member_account, compute_host, version, body, status):
    """A body the version takes starts a live migration (202; block_migration false is 400: no
    storage is shared); one it does not take is 400."""
    assert_live_migrate_answer(admin_client, member_account, compute_host, version, body, status)


def test_2_26_server_tags(member_client, member_account, other_client):
    user, project, _token = member_account
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    tags = f"servers/{server.uuid}/tags"
    assert "itemNotFound" in call(member_client.get, tags, "2.25", status=404)
    assert "itemNotFound" in call(member_client.put, f"{tags}/a", "2.25", status=404)
    assert call(member_client.get, tags, "2.26") == {"tags": []}

    response = member_client.put(f"{API}/{tags}/web", **v("2.26"))
    assert response.status_code == 201 and response["Location"].endswith(f"/v2.1/{tags}/web")
    assert member_client.put(f"{API}/{tags}/web", **v("2.26")).status_code == 204  # already there
    assert member_client.get(f"{API}/{tags}/web", **v("2.26")).status_code == 204
    assert "itemNotFound" in call(member_client.get, f"{tags}/db", "2.26", status=404)
    # doc/api_samples/os-server-tags/v2.26/server-tags-put-all-resp.json: sorted, no duplicates
    assert call(member_client.put, tags, "2.26", {"tags": ["tag2", "tag1", "tag2"]}) == {"tags": ["tag1", "tag2"]}
    assert call(member_client.get, tags, "2.26") == {"tags": ["tag1", "tag2"]}
    for bad in ({"tags": ["a/b"]}, {"tags": ["a,b"]}, {"tags": [""]}, {"tags": ["x" * 61]}, {"tags": "a"},
                {"tags": [str(n) for n in range(51)]}, {"tag": ["a"]}):
        assert "badRequest" in call(member_client.put, tags, "2.26", bad, status=400)
    assert "badRequest" in call(member_client.put, f"{tags}/{'x' * 61}", "2.26", status=400)
    assert call(member_client.get, tags, "2.26") == {"tags": ["tag1", "tag2"]}

    # the server body from 2.26 (show, detail, update)
    assert "tags" not in call(member_client.get, f"servers/{server.uuid}", "2.25")["server"]
    assert call(member_client.get, f"servers/{server.uuid}", "2.26")["server"]["tags"] == ["tag1", "tag2"]
    assert call(member_client.get, "servers/detail", "2.26")["servers"][0]["tags"] == ["tag1", "tag2"]
    renamed = call(member_client.put, f"servers/{server.uuid}", "2.26", {"server": {"name": "x"}})["server"]
    assert renamed["tags"] == ["tag1", "tag2"]

    assert call(member_client.delete, f"{tags}/tag1", "2.26", status=204) is None
    assert "itemNotFound" in call(member_client.delete, f"{tags}/tag1", "2.26", status=404)
    assert "itemNotFound" in call(other_client.get, tags, "2.26", status=404)  # another project's server
    Instance.objects.filter(pk=server.pk).update(vm_state=states.SHELVED)
    assert "conflictingRequest" in call(member_client.put, f"{tags}/z", "2.26", status=409)
    assert "conflictingRequest" in call(member_client.delete, tags, "2.26", status=409)
    assert call(member_client.get, tags, "2.26") == {"tags": ["tag2"]}  # reading is fine
    Instance.objects.filter(pk=server.pk).update(vm_state=states.STOPPED)
    assert call(member_client.delete, tags, "2.26", status=204) is None
    assert call(member_client.get, tags, "2.26") == {"tags": []}


def test_2_26_list_filters_on_tags(member_client, member_account):
    from compute.models import InstanceTag

    user, project, _token = member_account
    servers = {}
    for name, tags in (("ab", ["a", "b"]), ("a", ["a"]), ("c", ["c"]), ("none", [])):
        servers[name] = make_instance(project, user, display_name=name, vm_state=states.ACTIVE, task_state=None)
        InstanceTag.objects.bulk_create([InstanceTag(instance=servers[name], tag=t) for t in tags])

    def names(query, version="2.26"):
        return sorted(s["name"] for s in call(member_client.get, f"servers/detail?{query}", version)["servers"])

    assert names("tags=a,b") == ["ab"]
    assert names("tags=a") == ["a", "ab"]
    assert names("tags-any=b,c") == ["ab", "c"]
    assert names("not-tags=a,b") == ["a", "c", "none"]
    assert names("not-tags-any=a,c") == ["none"]
    assert names("tags=a&not-tags-any=b") == ["a"]
    assert names("tags=a,b", "2.25") == ["a", "ab", "c", "none"]  # no tag filters below 2.26
    summary = call(member_client.get, "servers?tags-any=c", "2.26")["servers"]
    assert [s["name"] for s in summary] == ["c"] and "tags" not in summary[0]


def test_2_52_tags_on_create(member_client, image, paths):
    server = {"name": "web", "imageRef": str(image.id), "flavorRef": "1", "networks": "auto"}
    refused = call(member_client.post, "servers", "2.51", {"server": {**server, "networks": [], "tags": ["a"]}},
                   status=400)
    assert "tags" in refused["badRequest"]["message"]
    assert "badRequest" in call(member_client.post, "servers", "2.52", {"server": {**server, "tags": ["a/b"]}},
                                status=400)
    made = call(member_client.post, "servers", "2.52", {"server": {**server, "tags": ["b", "a"]}}, status=202)
    assert call(member_client.get, f"servers/{made['server']['id']}", "2.52")["server"]["tags"] == ["a", "b"]


def test_2_27_the_openstack_api_version_header(member_client):
    """2.27 made `OpenStack-API-Version: compute 2.27` the header (X-OpenStack-Nova-API-Version
    still works); the answer names the version in both and varies on both."""
    response = member_client.get(f"{API}/flavors", HTTP_OPENSTACK_API_VERSION="compute 2.27")
    assert response.status_code == 200
    assert response["OpenStack-API-Version"] == "compute 2.27" and response["X-OpenStack-Nova-API-Version"] == "2.27"
    assert {"OpenStack-API-Version", "X-OpenStack-Nova-API-Version"} <= {
        h.strip() for h in response["Vary"].split(",")}
    legacy = member_client.get(f"{API}/flavors", HTTP_X_OPENSTACK_NOVA_API_VERSION="2.27")
    assert legacy["OpenStack-API-Version"] == "compute 2.27"
    # another service's entry in the header is not the compute version
    other = member_client.get(f"{API}/flavors", HTTP_OPENSTACK_API_VERSION="volume 3.0, compute 2.27")
    assert other["OpenStack-API-Version"] == "compute 2.27"


def test_2_28_hypervisor_cpu_info_is_an_object(admin_client, compute_host):
    compute_host("host-a")
    listed = call(admin_client.get, "os-hypervisors/detail", "2.27")["hypervisors"]
    node_id = listed[0]["id"]
    old = listed[0]["cpu_info"]
    assert isinstance(old, str)
    shown = call(admin_client.get, f"os-hypervisors/{node_id}", "2.28")["hypervisor"]["cpu_info"]
    # doc/api_samples/os-hypervisors/v2.28/hypervisors-show-resp.json
    assert isinstance(shown, dict) and set(shown) >= {"arch", "model", "vendor", "features", "topology"}
    assert json.loads(old) == shown
    assert call(admin_client.get, "os-hypervisors/detail", "2.28")["hypervisors"][0]["cpu_info"] == shown


@pytest.mark.parametrize("version, body, status", [
    ("2.28", {"host": "host-b", "force": True}, 400),  # force comes with 2.29
    ("2.29", {"force": True}, 400),  # "Can't force to a non-provided destination"
    ("2.29", {"host": "host-b", "force": "maybe"}, 400),
    # accepted: then refused while host-a is up (Nova's ComputeServiceInUse, also a 400)
    ("2.29", {"host": "host-b", "force": True}, "in use"),
    ("2.29", {"force": False}, "in use"),
    ("2.29", {"host": "host-b"}, "in use"),
])
def test_2_29_evacuate_force(admin_client, member_account, compute_host, version, body, status):
    user, project, _token = member_account
    compute_host("host-a")
    compute_host("host-b")
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    answer = call(admin_client.post, f"servers/{server.uuid}/action", version, {"evacuate": body}, status=400)
    assert status == 400 or status in answer["badRequest"]["message"]


@pytest.mark.parametrize("version, body, status", [
    ("2.29", {"host": "host-b", "block_migration": "auto", "force": True}, 400),
    ("2.30", {"host": "host-b", "block_migration": "auto", "force": True}, 202),
    ("2.30", {"host": None, "block_migration": "auto", "force": "no"}, 202),
    ("2.30", {"host": "host-b", "block_migration": "auto", "force": "perhaps"}, 400),
    # 2.34 moved the pre-checks after the 202
    ("2.34", {"host": None, "block_migration": "auto"}, 202),
])
def test_2_30_live_migrate_force(admin_client, member_account, compute_host, version, body, status):
    """The body is checked per version, then the live migration starts (202)."""
    assert_live_migrate_answer(admin_client, member_account, compute_host, version, body, status)


def test_2_31_console_auth_tokens_of_every_console_type(admin_client, member_client, member_account):
    from consoles.services import vnc

    user, project, _token = member_account
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    token = vnc.issue_token(server, "host-a", "127.0.0.1", 5901, "novnc")
    path = f"os-console-auth-tokens/{token}"
    # below 2.31 only RDP tokens were shown (none exist here, nor in today's Nova): 400
    assert "badRequest" in call(admin_client.get, path, "2.30", status=400)
    # doc/api_samples/os-console-auth-tokens/v2.31/get-console-connect-info-get-resp.json
    assert call(admin_client.get, path, "2.31") == {"console": {
        "instance_uuid": str(server.uuid), "host": "127.0.0.1", "port": 5901, "internal_access_path": None}}
    assert "forbidden" in call(member_client.get, path, "2.31", status=403)
    assert "itemNotFound" in call(admin_client.get, "os-console-auth-tokens/nope", "2.31", status=404)


@pytest.mark.parametrize("version, extra, outcome", [
    # block_device_mapping_v2 tag: from 2.32
    ("2.31", {"bdm_tag": "root"}, "additional properties"),
    ("2.32", {"bdm_tag": "root"}, 202),
    ("2.32", {"bdm_tag": "a/b"}, "tag"),
    # networks tag: 2.32 (then again from 2.42)
    ("2.31", {"net_tag": "nic1"}, "additional properties"),
    ("2.32", {"net_tag": "nic1"}, "could not be found"),  # the tag passed; the network is unknown
    ("2.32", {"net_tag": "x" * 61}, "tag"),
])
def test_2_32_device_tags_on_create(member_client, image, paths, version, extra, outcome):
    server = {"name": "web", "imageRef": str(image.id), "flavorRef": "1"}
    if "bdm_tag" in extra:
        server["block_device_mapping_v2"] = [{"boot_index": 0, "uuid": str(image.id), "source_type": "image",
                                              "destination_type": "local", "tag": extra["bdm_tag"]}]
    if "net_tag" in extra:
        server["networks"] = [{"uuid": "3cb9bc59-5699-4588-a4b1-b87f96708bc6", "tag": extra["net_tag"]}]
    if outcome == 202:
        assert call(member_client.post, "servers", version, {"server": server}, status=202)["server"]["id"]
    else:
        assert outcome in call(member_client.post, "servers", version, {"server": server},
                               status=400)["badRequest"]["message"]


def test_2_33_hypervisors_limit_and_marker(admin_client, compute_host):
    for host in ("host-a", "host-b", "host-c"):
        compute_host(host)
    everything = call(admin_client.get, "os-hypervisors", "2.32")["hypervisors"]
    ids = [h["id"] for h in everything]
    assert len(ids) == 3 and ids == sorted(ids)
    # below 2.33 limit and marker are ignored
    assert call(admin_client.get, "os-hypervisors?limit=1", "2.32") == {"hypervisors": everything}

    page = call(admin_client.get, "os-hypervisors?limit=2", "2.33")
    assert [h["id"] for h in page["hypervisors"]] == ids[:2]
    # doc/api_samples/os-hypervisors/v2.33/hypervisors-list-resp.json
    (link,) = page["hypervisors_links"]
    assert link["rel"] == "next" and link["href"].endswith(f"/v2.1/os-hypervisors?limit=2&marker={ids[1]}")
    rest = call(admin_client.get, f"os-hypervisors?limit=2&marker={ids[1]}", "2.33")
    assert [h["id"] for h in rest["hypervisors"]] == ids[2:] and "hypervisors_links" not in rest
    detail = call(admin_client.get, f"os-hypervisors/detail?limit=1&marker={ids[0]}", "2.33")
    assert [h["id"] for h in detail["hypervisors"]] == [ids[1]] and "vcpus" in detail["hypervisors"][0]
    assert detail["hypervisors_links"][0]["href"].endswith(f"/v2.1/os-hypervisors/detail?limit=1&marker={ids[1]}")
    assert "hypervisors_links" not in call(admin_client.get, "os-hypervisors", "2.33")
    for bad in ("limit=-1", "limit=x", "marker=999999", "marker=x"):
        assert "badRequest" in call(admin_client.get, f"os-hypervisors?{bad}", "2.33", status=400)


def test_2_35_keypairs_limit_and_marker(member_client):
    for name in ("k3", "k1", "k2"):
        call(member_client.post, "os-keypairs", "2.35", {"keypair": {"name": name}}, status=201)

    def names(body):
        return [k["keypair"]["name"] for k in body["keypairs"]]

    assert call(member_client.get, "os-keypairs?limit=1", "2.34") == {"keypairs": call(
        member_client.get, "os-keypairs", "2.34")["keypairs"]}  # ignored below 2.35
    page = call(member_client.get, "os-keypairs?limit=2", "2.35")
    assert names(page) == ["k1", "k2"]
    # doc/api_samples/os-keypairs/v2.35/keypairs-list-resp.json
    assert [(link["rel"], link["href"].split("/v2.1/")[1]) for link in page["keypairs_links"]] == [
        ("next", "os-keypairs?limit=2&marker=k2")]
    rest = call(member_client.get, "os-keypairs?limit=2&marker=k2", "2.35")
    assert names(rest) == ["k3"] and "keypairs_links" not in rest
    assert names(call(member_client.get, "os-keypairs?marker=k1", "2.35")) == ["k2", "k3"]
    for bad in ("marker=nope", "limit=-2", "limit=two"):
        assert "badRequest" in call(member_client.get, f"os-keypairs?{bad}", "2.35", status=400)


PROXIES = ["os-networks", "os-floating-ips", "os-floating-ip-pools", "os-security-groups", "os-security-group-rules",
           "os-tenant-networks", "os-volumes", "os-volumes/detail", "os-snapshots", "os-snapshots/detail", "images",
           "images/detail"]


@pytest.mark.parametrize("path", PROXIES)
def test_2_36_the_network_volume_and_image_proxies_are_gone(admin_client, path, paths):
    before = admin_client.get(f"{API}/{path}", **v("2.35"))
    assert before.status_code != 404, before.content
    assert "itemNotFound" in call(admin_client.get, path, "2.36", status=404)
    assert "itemNotFound" in call(admin_client.post, path, "2.36", {}, status=404)


def test_2_36_limits_and_quota_sets_without_network_quotas(admin_client, member_client, member_account):
    _user, project, _token = member_account
    network = {"maxSecurityGroups", "maxSecurityGroupRules", "maxTotalFloatingIps", "totalFloatingIpsUsed",
               "totalSecurityGroupsUsed"}
    old = call(member_client.get, "limits", "2.35")["limits"]["absolute"]
    assert network <= set(old) and "maxImageMeta" in old
    new = call(member_client.get, "limits", "2.36")["limits"]["absolute"]
    assert set(new) == set(old) - network  # doc/api_samples/limits/v2.36/limit-get-resp.json

    gone = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
    path = f"os-quota-sets/{project.id}"
    old = call(admin_client.get, path, "2.35")["quota_set"]
    assert gone <= set(old)
    for suffix in ("", "/defaults", "/detail"):
        assert set(call(admin_client.get, path + suffix, "2.36")["quota_set"]) == set(old) - gone
    assert "badRequest" in call(admin_client.put, path, "2.36", {"quota_set": {"floating_ips": 5}}, status=400)
    updated = call(admin_client.put, path, "2.36", {"quota_set": {"instances": 7}})["quota_set"]
    assert updated["instances"] == 7 and not gone & set(updated)
    assert call(admin_client.put, path, "2.35", {"quota_set": {"floating_ips": 5}})["quota_set"]["floating_ips"] == 5


def test_2_39_the_image_metadata_proxy_and_its_limit_are_gone(member_client, image):
    old = call(member_client.get, "limits", "2.38")["limits"]["absolute"]
    # doc/api_samples/limits/v2.39/limit-get-resp.json
    assert set(call(member_client.get, "limits", "2.39")["limits"]["absolute"]) == set(old) - {"maxImageMeta"}
    path = f"images/{image.id}/metadata"
    assert "metadata" in call(member_client.get, path, "2.38")
    assert "itemNotFound" in call(member_client.get, path, "2.39", status=404)


@pytest.mark.parametrize("version, networks, outcome", [
    ("2.36", "auto", 400),  # the strings come with 2.37
    ("2.36", "none", 400),
    ("2.36", None, 202),  # no networks: the project's network
    ("2.37", None, "'networks' is a required property"),
    ("2.37", "some", 400),
    ("2.37", "auto", 202),
    ("2.37", "none", 202),
])
def test_2_37_networks_is_required(member_client, image, paths, version, networks, outcome):
    from compute.services import host_resources
    from network.services.networks import create_network

    create_network("mvnet", "10.236.37.0/24", bridge="cptmv37", bridge_interface="")  # a row; no bridge made
    server = {"name": "web", "imageRef": str(image.id), "flavorRef": "1"}
    if networks is not None:
        server["networks"] = networks
    if outcome != 202:
        message = call(member_client.post, "servers", version, {"server": server}, status=400)["badRequest"]["message"]
        assert outcome == 400 or outcome in message
        return
    made = call(member_client.post, "servers", version, {"server": server}, status=202)["server"]
    row = Instance.objects.get(uuid=made["id"])
    # "none": the host gives it no fixed IP, so its domain has no NIC; "auto": the project's network
    assert [n.label for n in host_resources.requested_networks(row)] == ([] if networks == "none" else ["mvnet"])


def test_2_38_an_invalid_status_filter_is_400(member_client, member_account):
    user, project, _token = member_account
    make_instance(project, user, display_name="web", vm_state=states.ACTIVE, task_state=None)
    for path in ("servers", "servers/detail"):
        assert call(member_client.get, f"{path}?status=nonsense", "2.37") == {"servers": []}
        assert "Invalid status value" in call(member_client.get, f"{path}?status=nonsense", "2.38",
                                              status=400)["badRequest"]["message"]
        assert [s["name"] for s in call(member_client.get, f"{path}?status=active", "2.38")["servers"]] == ["web"]
        # one valid status among them is enough (as Nova)
        assert len(call(member_client.get, f"{path}?status=nonsense&status=ACTIVE", "2.38")["servers"]) == 1


def test_2_40_tenant_usage_limit_and_marker(admin_client, member_account):
    from datetime import timedelta

    from django.utils import timezone

    user, project, _token = member_account
    now = timezone.now()
    rows = [make_instance(project, user, display_name=f"vm{n}", vm_state=states.ACTIVE, task_state=None,
                          launched_at=now - timedelta(hours=10 - n)) for n in range(3)]
    period = f"start={(now - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%S')}"

    def ids(usages):
        return [s["instance_id"] for u in usages for s in u["server_usages"]]

    everything = call(admin_client.get, f"os-simple-tenant-usage?{period}&detailed=1&limit=1", "2.39")
    assert ids(everything["tenant_usages"]) == [str(r.uuid) for r in rows]  # no paging below 2.40
    assert "tenant_usages_links" not in everything

    page = call(admin_client.get, f"os-simple-tenant-usage?{period}&detailed=1&limit=2", "2.40")
    assert ids(page["tenant_usages"]) == [str(r.uuid) for r in rows[:2]]
    (link,) = page["tenant_usages_links"]
    assert link["rel"] == "next" and f"marker={rows[1].uuid}" in link["href"]
    rest = call(admin_client.get, f"os-simple-tenant-usage?{period}&detailed=1&limit=2&marker={rows[1].uuid}",
                "2.40")
    assert ids(rest["tenant_usages"]) == [str(rows[2].uuid)] and "tenant_usages_links" not in rest

    # one project: doc/api_samples/os-simple-tenant-usage/v2.40/simple-tenant-usage-get-specific.json
    one = call(admin_client.get, f"os-simple-tenant-usage/{project.id}?{period}&limit=1", "2.40")
    assert [s["instance_id"] for s in one["tenant_usage"]["server_usages"]] == [str(rows[0].uuid)]
    assert one["tenant_usage_links"][0]["href"].split("/v2.1/")[1].startswith(
        f"os-simple-tenant-usage/{project.id}?")
    assert "badRequest" in call(admin_client.get, f"os-simple-tenant-usage?{period}&marker=nope", "2.40",
                                status=400)
    assert "badRequest" in call(admin_client.get, f"os-simple-tenant-usage?{period}&limit=-1", "2.40", status=400)


def test_2_41_aggregates_show_their_uuid(admin_client):
    from compute.scheduling_models import Aggregate

    made = call(admin_client.post, "os-aggregates", "2.41", {"aggregate": {"name": "agg1"}})["aggregate"]
    uuid = str(Aggregate.objects.get(pk=made["id"]).uuid)
    assert made["uuid"] == uuid  # doc/api_samples/os-aggregates/v2.41/aggregate-post-resp.json
    path = f"os-aggregates/{made['id']}"
    assert call(admin_client.get, path, "2.41")["aggregate"]["uuid"] == uuid
    assert [a["uuid"] for a in call(admin_client.get, "os-aggregates", "2.41")["aggregates"]] == [uuid]
    assert call(admin_client.put, path, "2.41", {"aggregate": {"name": "agg2"}})["aggregate"]["uuid"] == uuid
    assert call(admin_client.post, f"{path}/action", "2.41",
                {"set_metadata": {"metadata": {"k": "v"}}})["aggregate"]["uuid"] == uuid
    assert "uuid" not in call(admin_client.get, path, "2.40")["aggregate"]
    assert "uuid" not in call(admin_client.get, "os-aggregates", "2.40")["aggregates"][0]


@pytest.mark.parametrize("version, tag_on, status", [
    ("2.41", "network", 400),  # networks lost `tag` in 2.33-2.41
    ("2.41", "bdm", 202),  # block devices kept it
    ("2.42", "network", 202),  # and 2.42 gives it back to networks
    ("2.42", "bdm", 202),
])
def test_2_42_device_tags_again(member_client, image, paths, version, tag_on, status):
    from network.services.networks import create_network

    network = create_network("mvnet42", "10.236.42.0/24", bridge="cptmv42", bridge_interface="")
    server = {"name": "web", "imageRef": str(image.id), "flavorRef": "1", "networks": [{"uuid": str(network.uuid)}]}
    if tag_on == "network":
        server["networks"][0]["tag"] = "nic1"
    else:
        server["block_device_mapping_v2"] = [{"boot_index": 0, "uuid": str(image.id), "source_type": "image",
                                              "destination_type": "local", "tag": "root"}]
    answer = call(member_client.post, "servers", version, {"server": server}, status=status)
    assert ("badRequest" in answer) == (status == 400)


def test_2_43_os_hosts_is_gone(admin_client, compute_host):
    compute_host("host-a")
    assert call(admin_client.get, "os-hosts", "2.42")["hosts"]
    assert call(admin_client.get, "os-hosts/host-a", "2.42")["host"]
    for path in ("os-hosts", "os-hosts/host-a", "os-hosts/host-a/reboot"):
        assert "itemNotFound" in call(admin_client.get, path, "2.43", status=404)
    assert "itemNotFound" in call(admin_client.put, "os-hosts/host-a", "2.43", {"status": "disable"}, status=404)


@pytest.mark.parametrize("action, body", [
    ("addFloatingIp", {"address": "203.0.113.9"}),
    ("removeFloatingIp", {"address": "203.0.113.9"}),
    ("addFixedIp", {"networkId": "x"}),
    ("removeFixedIp", {"address": "10.0.0.9"}),
])
def test_2_44_nova_network_server_actions_are_gone(member_client, member_account, action, body):
    user, project, _token = member_account
    server = make_instance(project, user, host="host-a", vm_state=states.ACTIVE, task_state=None)
    path = f"servers/{server.uuid}/action"
    gone = {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}
    # 2.43: the action is looked at (a 400 for the fixed IP ones this cloud never had, the
    # policy's 403 for the floating ones)
    before = member_client.post(f"{API}/{path}", {action: body}, format="json", **v("2.43"))
    assert before.status_code in (400, 403) and before.json() != gone
    assert call(member_client.post, path, "2.44", {action: body}, status=404) == gone
    # os-virtual-interfaces: never offered here (404 at every version)
    assert member_client.get(f"{API}/servers/{server.uuid}/os-virtual-interfaces", **v("2.43")).status_code == 404


@pytest.mark.parametrize("action", [
    {"createImage": {"name": "snap"}},
    {"createBackup": {"name": "back", "backup_type": "daily", "rotation": 2}},
])
def test_2_45_create_image_and_backup_answer_the_image_id(member_client, server, paths, action):
    from cloudproj.testing.servers import make_active
    from images.models import Image

    path = f"servers/{server}/action"
    make_active(server)
    old = member_client.post(f"{API}/{path}", action, format="json", **v("2.44"))
    assert old.status_code == 202 and not old.content
    old_id = old["Location"].rsplit("/", 1)[1]
    Instance.objects.filter(uuid=server).update(task_state=None)  # as if that snapshot were done
    # doc/api_samples/servers/v2.45/server-action-create-image-resp.json
    response = member_client.post(f"{API}/{path}", action, format="json", **v("2.45"))
    assert response.status_code == 202 and not response.has_header("Location")
    new = response.json()
    assert set(new) == {"image_id"} and new["image_id"] != old_id
    assert Image.objects.filter(id=new["image_id"]).exists()


def test_2_46_the_request_id_header(member_client, server, paths):
    """2.46 only signals X-OpenStack-Request-ID (always sent here, with X-Compute-Request-Id):
    the id an action records is the one the answer carries."""
    from cloudproj.testing.servers import make_active

    make_active(server)
    response = member_client.post(f"{API}/servers/{server}/action", {"reboot": {"type": "SOFT"}}, format="json",
                                  **v("2.46"))
    assert response.status_code == 202 and response["OpenStack-API-Version"] == "compute 2.46"
    request_id = response["X-OpenStack-Request-ID"]
    assert request_id.startswith("req-") and response["X-Compute-Request-ID"] == request_id
    actions = call(member_client.get, f"servers/{server}/os-instance-actions", "2.46")["instanceActions"]
    assert actions[0]["action"] == "reboot" and actions[0]["request_id"] == request_id


def test_2_47_the_server_shows_its_flavor(member_client, member_account, settings):
    user, project, _token = member_account
    server = make_instance(project, user, display_name="web", vm_state=states.ACTIVE, task_state=None,
                           flavorid="42", flavor_name="m1.specs", memory_mb=512, vcpus=1, root_gb=1, swap=0,
                           flavor_extra_specs={"hw:numa_nodes": "1"})
    path = f"servers/{server.uuid}"
    old = call(member_client.get, path, "2.46")["server"]["flavor"]
    assert old["id"] == "42" and old["links"][0]["rel"] == "bookmark"
    # doc/api_samples/servers/v2.47/server-get-resp.json
    flavor = {"disk": 1, "ephemeral": 0, "extra_specs": {"hw:numa_nodes": "1"}, "original_name": "m1.specs",
              "ram": 512, "swap": 0, "vcpus": 1}
    assert call(member_client.get, path, "2.47")["server"]["flavor"] == flavor
    assert call(member_client.get, "servers/detail", "2.47")["servers"][0]["flavor"] == flavor
    assert call(member_client.put, path, "2.47", {"server": {"name": "www"}})["server"]["flavor"] == flavor
    assert "flavor" not in call(member_client.get, "servers", "2.47")["servers"][0]
    # the extra specs follow compute:flavor_extra_specs:index (every user by default here)
    settings.POLICY_OVERRIDES = {"compute:flavor_extra_specs:index": "admin_api"}
    assert call(member_client.get, path, "2.47")["server"]["flavor"] == {
        k: val for k, val in flavor.items() if k != "extra_specs"}


@pytest.mark.parametrize("version, tag, offloaded, outcome", [
    ("2.48", "disk1", False, "additional properties"),  # tag comes with 2.49
    ("2.49", "disk1", False, "status"),  # accepted: the volume is not available yet (400 for that)
    ("2.49", "a/b", False, "tag"),
    ("2.49", "disk1", True, "shelved-offloaded"),
])
def test_2_49_tagged_volume_attach(member_client, member_account, volume_host_a, version, tag, offloaded, outcome):
    user, project, _token = member_account
    vm_state = states.SHELVED_OFFLOADED if offloaded else states.ACTIVE
    server = make_instance(project, user, host=None if offloaded else VOLUME_HOST_A, vm_state=vm_state,
                           task_state=None)
    volume_id = create(member_client, project)["id"]  # still creating: no host made it
    body = {"volumeAttachment": {"volumeId": volume_id, "tag": tag}}
    message = call(member_client.post, f"servers/{server.uuid}/os-volume_attachments", version, body,
                   status=400)["badRequest"]["message"]
    assert outcome in message


def test_2_59_and_2_65_a_server_s_migrations_show_their_uuid_and_queued_ones_abort(admin_client, live_migrating):
    server, live, _cold = live_migrating
    path = f"servers/{server.uuid}/migrations"
    assert "uuid" not in call(admin_client.get, f"{path}/{live.pk}", "2.58")["migration"]
    assert call(admin_client.get, f"{path}/{live.pk}", "2.59")["migration"]["uuid"] == str(live.uuid)
    Instance.objects.filter(pk=server.pk).update(task_state="migrating")
    type(live).objects.filter(pk=live.pk).update(status="queued")
    assert "badRequest" in call(admin_client.delete, f"{path}/{live.pk}", "2.64", status=400)
    assert call(admin_client.delete, f"{path}/{live.pk}", "2.65", status=202) is None
    assert InstanceResize.objects.get(instance=server).live_request == "abort"
