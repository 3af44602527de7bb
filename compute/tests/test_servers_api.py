"""Compute v2.1 servers API as a client sees it: create, show, list (filters, pagination),
update, delete and cross-project isolation. No workers run: servers stay in BUILD unless a
test moves their state in the DB (as a host would)."""
import hashlib
import io

import pytest
from django.utils import timezone

from cloudproj.testing.clients import TokenClient
from cloudproj.testing.servers import API, boot, error, instance, show
from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from identity.services import quotas
from identity.models import Project
from images.models import Image
from images.services.registry import register_image
from network.services import fixed_ips
from network.services.networks import create_network

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


# --- create and show ---------------------------------------------------------------------------


def test_create_answers_202_with_links_and_location(member_client, image):
    response = member_client.post(
        f"{API}/servers", {"server": {"name": "web", "imageRef": str(image.id), "flavorRef": "1"}}, format="json"
    )
    assert response.status_code == 202
    server = response.json()["server"]
    assert set(server) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    # a generated password, as Nova's: 12 characters, no look-alikes, different every time
    assert len(server["adminPass"]) == 12 and not set(server["adminPass"]) & set("0O1lI")
    assert server["OS-DCF:diskConfig"] == "MANUAL"
    assert server["security_groups"] == [{"name": "default"}]
    rels = {link["rel"]: link["href"] for link in server["links"]}
    assert rels["self"].endswith(f"/compute/v2.1/servers/{server['id']}")
    assert rels["bookmark"].endswith(f"/compute/servers/{server['id']}")
    assert response["Location"] == rels["self"]


def test_create_answers_the_admin_pass_asked_for_and_keeps_none(member_client, image):
    body = {"server": {"name": "web", "imageRef": str(image.id), "flavorRef": "1", "adminPass": "S3cret-pass"}}
    response = member_client.post(f"{API}/servers", body, format="json")
    assert response.status_code == 202
    assert response.json()["server"]["adminPass"] == "S3cret-pass"
    other = member_client.post(
        f"{API}/servers", {"server": {"name": "web2", "imageRef": str(image.id), "flavorRef": "1"}}, format="json"
    ).json()["server"]["adminPass"]
    assert other != "S3cret-pass" and len(other) == 12
    detail = show(member_client, response.json()["server"]["id"])
    assert "adminPass" not in detail and "S3cret-pass" not in str(detail)
    bad = {"server": {"name": "web", "imageRef": str(image.id), "flavorRef": "1", "adminPass": 7}}
    assert member_client.post(f"{API}/servers", bad, format="json").status_code == 400


def test_show_after_create_is_build_with_every_field(member_client, member_account, image):
    user, project, _token = member_account
    server_id = boot(member_client, image, "web", metadata={"role": "db"}, accessIPv4="10.9.8.7")["server"]["id"]
    server = show(member_client, server_id)
    assert server["status"] == "BUILD"
    assert server["OS-EXT-STS:vm_state"] == "building"
    assert server["OS-EXT-STS:task_state"] == "scheduling"
    assert server["OS-EXT-STS:power_state"] == 0
    assert (server["id"], server["name"]) == (server_id, "web")
    assert (server["tenant_id"], server["user_id"]) == (project.id, user.id)
    assert server["metadata"] == {"role": "db"}
    assert server["hostId"] == ""
    assert server["image"]["id"] == str(image.id)
    assert server["image"]["links"][0]["rel"] == "bookmark"
    assert server["image"]["links"][0]["href"].endswith(f"/compute/images/{image.id}")
    assert server["flavor"] == {"id": "1", "links": [{"rel": "bookmark", "href": server["flavor"]["links"][0]["href"]}]}
    assert server["flavor"]["links"][0]["href"].endswith("/compute/flavors/1")
    assert server["addresses"] == {}
    assert (server["accessIPv4"], server["accessIPv6"]) == ("10.9.8.7", "")
    assert server["progress"] == 0
    assert server["key_name"] is None and server["config_drive"] == ""
    assert server["OS-DCF:diskConfig"] == "MANUAL"
    assert server["OS-EXT-AZ:availability_zone"] == ""
    assert server["OS-SRV-USG:launched_at"] is None and server["OS-SRV-USG:terminated_at"] is None
    assert server["security_groups"] == [{"name": "default"}]
    assert server["os-extended-volumes:volumes_attached"] == []
    assert server["created"].endswith("Z") and len(server["created"]) == len("2012-08-20T21:11:09Z")
    assert "fault" not in server
    assert not any(key.startswith("OS-EXT-SRV-ATTR") for key in server)  # admins only


def test_admin_sees_host_attributes_and_host_id(admin_client, admin_account, image):
    server_id = boot(admin_client, image)["server"]["id"]
    row = instance(server_id)
    now = timezone.now()
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host="host-a",
                                  node="node-a", launched_at=now)
    server = show(admin_client, server_id)
    assert server["status"] == "ACTIVE"
    assert server["OS-EXT-SRV-ATTR:host"] == "host-a"
    assert server["OS-EXT-SRV-ATTR:hypervisor_hostname"] == "node-a"
    assert server["OS-EXT-SRV-ATTR:instance_name"] == "instance-%08x" % row.id
    project_id = admin_account[1].id
    assert server["hostId"] == hashlib.sha224(f"{project_id}host-a".encode()).hexdigest()
    assert server["OS-SRV-USG:launched_at"] == now.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_create_takes_urls_hints_and_string_counts(member_client, member_account, image):
    from secgroups.services.groups import create_group

    create_group(member_account[1].id, "web", "web servers")
    body = boot(
        member_client, image, "url", flavorRef="http://h/compute/flavors/1",
        imageRef=f"http://h/compute/v2.1/images/{image.id}", min_count="1", max_count="1",
        config_drive=True, security_groups=[{"name": "web"}, {"name": "web"}], hints={},
    )
    assert body["server"]["security_groups"] == [{"name": "web"}]
    server = show(member_client, body["server"]["id"])
    assert server["flavor"]["id"] == "1" and server["image"]["id"] == str(image.id)
    assert server["config_drive"] == "True"
    assert server["security_groups"] == [{"name": "web"}]


def test_create_with_the_root_disk_mapping_the_client_sends(member_client, image):
    root = {"uuid": str(image.id), "boot_index": 0, "source_type": "image", "destination_type": "local",
            "delete_on_termination": True}
    with_ref = boot(member_client, image, "osc-style", block_device_mapping_v2=[root], networks=[])
    assert show(member_client, with_ref["server"]["id"])["image"]["id"] == str(image.id)
    without_ref = boot(member_client, image, "bdm-only", imageRef="", block_device_mapping_v2=[root])
    assert show(member_client, without_ref["server"]["id"])["image"]["id"] == str(image.id)


def test_multi_create_and_reservation_id(member_client, image):
    body = boot(member_client, image, "multi", min_count=2, max_count=3, return_reservation_id=True)
    reservation = body["reservation_id"]
    assert reservation.startswith("r-")
    listed = member_client.get(f"{API}/servers/detail", {"reservation_id": reservation}).json()["servers"]
    assert len(listed) == 3
    assert all(s["name"] == "multi" or s["name"].startswith("multi-") for s in listed)
    assert {s["status"] for s in listed} == {"BUILD"}
    single = boot(member_client, image, "pair", min_count=2)
    assert set(single["server"]) >= {"id", "links"}
    assert len(member_client.get(f"{API}/servers", {"name": "^pair"}).json()["servers"]) == 2


@pytest.mark.parametrize(
    "server, message",
    [
        ({"imageRef": "IMG", "flavorRef": "1"}, "'name' is a required property"),
        ({"name": "a", "imageRef": "IMG"}, "'flavorRef' is a required property"),
        ({"name": "a", "flavorRef": "1"}, "Missing imageRef attribute"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "99"}, "Flavor 99 could not be found."),
        ({"name": "a", "imageRef": "c0ffee00-0000-0000-0000-000000000000", "flavorRef": "1"},
         "Image c0ffee00-0000-0000-0000-000000000000 could not be found."),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "bogus": 1}, "additional properties"),
        ({"name": " a", "imageRef": "IMG", "flavorRef": "1"}, "name"),
        ({"name": 5, "imageRef": "IMG", "flavorRef": "1"}, "name"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": True}, "flavorRef"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "min_count": 0}, "min_count"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "min_count": 3, "max_count": 2}, "min_count"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "metadata": {"k": 1}}, "metadata"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "metadata": []}, "metadata"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "accessIPv4": "::1"}, "accessIPv4"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "networks": [{"uuid": "nope"}]}, "nope"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "networks": [{"id": "x"}]}, "additional"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "networks": {"uuid": "x"}}, "networks"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "user_data": "not base64!"}, "base 64"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "key_name": "missing"}, "Invalid key_name"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "availability_zone": "mars"}, "availability zone"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "security_groups": ["default"]}, "security_groups"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "block_device_mapping_v2": [{"x": 1}]}, "not supported"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "block_device_mapping_v2": [
            {"uuid": "IMG", "boot_index": 0, "source_type": "image", "destination_type": "volume"}]}, "non-zero size"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "block_device_mapping_v2": [
            {"uuid": "other", "boot_index": 0, "source_type": "image", "destination_type": "local"}]}, "imageRef"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "block_device_mapping_v2": [
            {"boot_index": -1, "source_type": "blank", "destination_type": "local"}]}, "not supported"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "OS-DCF:diskConfig": "SOMETIMES"}, "diskConfig"),
        ({"name": "a", "imageRef": "IMG", "flavorRef": "1", "config_drive": "maybe"}, "config_drive"),
    ],
)
def test_create_rejects_bad_input_with_400(member_client, image, server, message):
    server = {k: (str(image.id) if v == "IMG" else v) for k, v in server.items()}
    for mapping in server.get("block_device_mapping_v2", []):
        mapping.update({k: str(image.id) for k, v in mapping.items() if v == "IMG"})
    response = member_client.post(f"{API}/servers", {"server": server}, format="json")
    assert message in error(response, 400)
    assert not Instance.objects.exists()


def test_create_rejects_bad_envelopes(member_client, image):
    good = {"name": "a", "imageRef": str(image.id), "flavorRef": "1"}
    assert "additional properties" in error(
        member_client.post(f"{API}/servers", {"server": good, "extra": 1}, format="json"), 400)
    error(member_client.post(f"{API}/servers", {"server": "x"}, format="json"), 400)
    error(member_client.post(f"{API}/servers", [good], format="json"), 400)
    error(member_client.post(f"{API}/servers", "{not json", content_type="application/json"), 400)
    error(member_client.post(f"{API}/servers", {"server": good, "os:scheduler_hints": "x"}, format="json"), 400)


def test_create_over_quota_is_403(member_client, member_account, image):
    quotas.set_quota(member_account[1], "instances", 1)
    boot(member_client, image, "first")
    message = error(member_client.post(
        f"{API}/servers", {"server": {"name": "b", "imageRef": str(image.id), "flavorRef": "1"}}, format="json"), 403)
    assert "Quota exceeded for instances" in message


def test_private_image_of_another_project_is_not_found(member_client, other_client, image):
    owner = Project.objects.get(name="other")
    private = register_image(io.BytesIO(b"y" * 1024), "mine", visibility=Image.PRIVATE, owner=owner)
    response = member_client.post(
        f"{API}/servers", {"server": {"name": "a", "imageRef": str(private.id), "flavorRef": "1"}}, format="json")
    assert error(response, 400) == f"Image {private.id} could not be found."
    boot(other_client, private, "owner-may")


def test_reader_may_look_but_not_create(make_account, member_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    reader = TokenClient(make_account("demo", "reader", username="demo-reader")[2])
    assert show(reader, server_id)["id"] == server_id
    error(reader.post(f"{API}/servers", {"server": {"name": "r", "imageRef": str(image.id), "flavorRef": "1"}},
                      format="json"), 403)
    error(reader.delete(f"{API}/servers/{server_id}"), 403)


# --- update and delete -------------------------------------------------------------------------


def test_rename_and_access_ips(member_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    response = member_client.put(f"{API}/servers/{server_id}", {"server": {"name": "renamed", "accessIPv6": "fe80::1"}},
                                 format="json")
    assert response.status_code == 200
    server = response.json()["server"]
    assert (server["name"], server["accessIPv6"]) == ("renamed", "fe80::1")
    # Nova's update answer: the server without its extension attributes (tempest's update_server)
    assert set(server) == {"id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image", "flavor",
                           "created", "updated", "addresses", "accessIPv4", "accessIPv6", "links",
                           "OS-DCF:diskConfig", "progress"}
    assert show(member_client, server_id)["name"] == "renamed"
    error(member_client.put(f"{API}/servers/{server_id}", {"server": {"name": ""}}, format="json"), 400)
    error(member_client.put(f"{API}/servers/{server_id}", {"server": {"flavorRef": "2"}}, format="json"), 400)
    error(member_client.put(f"{API}/servers/{server_id}", {"name": "x"}, format="json"), 400)


def test_delete_is_204_then_404(member_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    response = member_client.delete(f"{API}/servers/{server_id}")
    assert response.status_code == 204
    assert instance(server_id).deleted_at is not None
    assert "could not be found" in error(member_client.get(f"{API}/servers/{server_id}"), 404)
    assert member_client.get(f"{API}/servers").json()["servers"] == []
    error(member_client.delete(f"{API}/servers/{server_id}"), 404)


def test_paths_work_without_and_with_trailing_slash(member_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    for path in ("servers", "servers/", "servers/detail/", f"servers/{server_id}/", f"servers/{server_id}/ips/",
                 f"servers/{server_id}/metadata/"):
        assert member_client.get(f"{API}/{path}").status_code == 200, path


def test_unknown_server_is_404_envelope(member_client, image):
    assert error(member_client.get(f"{API}/servers/not-a-uuid"), 404) == "Instance not-a-uuid could not be found."
    error(member_client.get(f"{API}/servers/00000000-0000-0000-0000-000000000000"), 404)


# --- other projects ----------------------------------------------------------------------------


def test_another_projects_server_is_404_everywhere(member_client, other_client, image):
    server_id = boot(member_client, image, "secret")["server"]["id"]
    error(other_client.get(f"{API}/servers/{server_id}"), 404)
    error(other_client.put(f"{API}/servers/{server_id}", {"server": {"name": "x"}}, format="json"), 404)
    error(other_client.delete(f"{API}/servers/{server_id}"), 404)
    error(other_client.post(f"{API}/servers/{server_id}/action", {"os-stop": None}, format="json"), 404)
    error(other_client.get(f"{API}/servers/{server_id}/metadata"), 404)
    error(other_client.post(f"{API}/servers/{server_id}/metadata", {"metadata": {"a": "b"}}, format="json"), 404)
    error(other_client.get(f"{API}/servers/{server_id}/ips"), 404)
    assert other_client.get(f"{API}/servers/detail").json()["servers"] == []
    assert other_client.get(f"{API}/servers", {"name": "secret"}).json()["servers"] == []
    assert instance(server_id).display_name == "secret"


def test_all_tenants_is_for_admins(member_client, admin_client, member_account, image):
    boot(member_client, image, "member-vm")
    boot(admin_client, image, "admin-vm")
    error(member_client.get(f"{API}/servers", {"all_tenants": "1"}), 403)
    error(member_client.get(f"{API}/servers/detail", {"all_tenants": ""}), 403)
    assert [s["name"] for s in member_client.get(f"{API}/servers", {"all_tenants": "0"}).json()["servers"]] == [
        "member-vm"]
    assert [s["name"] for s in admin_client.get(f"{API}/servers").json()["servers"]] == ["admin-vm"]
    names = {s["name"] for s in admin_client.get(f"{API}/servers/detail", {"all_tenants": "1"}).json()["servers"]}
    assert names == {"member-vm", "admin-vm"}
    scoped = admin_client.get(f"{API}/servers", {"all_tenants": "true", "project_id": member_account[1].id})
    assert [s["name"] for s in scoped.json()["servers"]] == ["member-vm"]
    error(admin_client.get(f"{API}/servers", {"all_tenants": "maybe"}), 400)
    # a non-admin's host filter is ignored (as Nova drops admin-only filters)
    assert len(member_client.get(f"{API}/servers", {"host": "nowhere"}).json()["servers"]) == 1


# --- lists -------------------------------------------------------------------------------------


def test_list_summary_and_detail_newest_first(member_client, image):
    ids = [boot(member_client, image, f"vm{i}")["server"]["id"] for i in range(3)]
    summary = member_client.get(f"{API}/servers").json()
    assert "servers_links" not in summary
    assert [s["id"] for s in summary["servers"]] == ids[::-1]
    assert set(summary["servers"][0]) == {"id", "name", "links"}
    detail = member_client.get(f"{API}/servers/detail").json()["servers"]
    assert [s["name"] for s in detail] == ["vm2", "vm1", "vm0"]
    assert all(s["status"] == "BUILD" and "OS-EXT-STS:vm_state" in s for s in detail)
    by_name = member_client.get(f"{API}/servers", {"sort_key": "display_name", "sort_dir": "asc"}).json()
    assert [s["name"] for s in by_name["servers"]] == ["vm0", "vm1", "vm2"]
    error(member_client.get(f"{API}/servers", {"sort_key": "password"}), 400)
    error(member_client.get(f"{API}/servers", {"sort_dir": "sideways"}), 400)


def test_status_filter(member_client, image):
    build_id = boot(member_client, image, "b")["server"]["id"]
    active_id = boot(member_client, image, "a")["server"]["id"]
    instance_service.update_state(instance(active_id), vm_state=states.ACTIVE, task_state=None, host="h1")

    def names(**params):
        return {s["name"] for s in member_client.get(f"{API}/servers/detail", params).json()["servers"]}

    assert names(status="ACTIVE") == {"a"}
    assert names(status="active") == {"a"}
    assert names(status="BUILD") == {"b"}
    assert names(status="SHUTOFF") == set()
    assert names(status="NO-SUCH-STATUS") == set()
    instance_service.update_state(instance(active_id), task_state=states.task.REBOOTING)
    assert names(status="REBOOT") == {"a"}
    assert names(status="ACTIVE") == {"a"}  # Nova: ACTIVE matches any task state of active servers
    error(member_client.get(f"{API}/servers", {"status": "DELETED"}), 403)
    assert build_id


def test_name_image_flavor_and_ip_filters(member_client, image):
    other_image = register_image(io.BytesIO(b"z" * 1024), "other-img", visibility=Image.PUBLIC)
    web1 = boot(member_client, image, "web-1")["server"]["id"]
    boot(member_client, image, "web-2", flavorRef="2")
    boot(member_client, other_image, "db-1")

    def names(**params):
        return sorted(s["name"] for s in member_client.get(f"{API}/servers", params).json()["servers"])

    assert names(name="web") == ["web-1", "web-2"]
    assert names(name="^db") == ["db-1"]
    assert names(name=r"-\d$") == ["db-1", "web-1", "web-2"]
    assert names(name="web-1$") == ["web-1"]
    assert names(image=str(other_image.id)) == ["db-1"]
    assert names(flavor="2") == ["web-2"]
    assert names(flavor="404") == []
    assert "regular expression" in error(member_client.get(f"{API}/servers", {"name": "web("}), 400)
    network = create_network("private", "10.20.0.0/28", bridge="brtest0")
    address = fixed_ips.allocate_fixed_ip(network, web1, host="h1", hostname="web-1").address
    assert names(ip=address.replace(".", r"\.") + "$") == ["web-1"]


def test_changes_since_includes_deleted_servers(member_client, admin_client, image):
    before = timezone.now() - timezone.timedelta(seconds=1)
    keep = boot(member_client, image, "keep")["server"]["id"]
    gone = boot(member_client, image, "gone")["server"]["id"]
    assert member_client.delete(f"{API}/servers/{gone}").status_code == 204
    since = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = member_client.get(f"{API}/servers/detail", {"changes-since": since}).json()["servers"]
    assert {s["id"]: s["status"] for s in listed} == {keep: "BUILD", gone: "DELETED"}
    later = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    assert member_client.get(f"{API}/servers", {"changes-since": later}).json()["servers"] == []
    assert error(member_client.get(f"{API}/servers", {"changes-since": "yesterday"}), 400) == (
        "Invalid filter field: changes-since.")
    # deleted=true is an admin filter; a member's is ignored
    assert [s["id"] for s in member_client.get(f"{API}/servers", {"deleted": "true"}).json()["servers"]] == [keep]
    everyone = admin_client.get(f"{API}/servers", {"all_tenants": "1", "deleted": "true"}).json()["servers"]
    assert [s["id"] for s in everyone] == [gone]
    status_deleted = admin_client.get(f"{API}/servers", {"all_tenants": "1", "status": "DELETED"}).json()
    assert [s["id"] for s in status_deleted["servers"]] == [gone]


def test_pagination_with_limit_and_marker(member_client, image):
    ids = [boot(member_client, image, f"p{i}")["server"]["id"] for i in range(5)][::-1]  # newest first
    first = member_client.get(f"{API}/servers/detail", {"limit": 2}).json()
    assert [s["id"] for s in first["servers"]] == ids[:2]
    (link,) = first["servers_links"]
    assert link["rel"] == "next"
    assert "/compute/v2.1/servers/detail?" in link["href"] and f"marker={ids[1]}" in link["href"]
    second = member_client.get(link["href"]).json()
    assert [s["id"] for s in second["servers"]] == ids[2:4]
    third = member_client.get(second["servers_links"][0]["href"]).json()
    assert [s["id"] for s in third["servers"]] == ids[4:]
    assert "servers_links" not in third
    summary = member_client.get(f"{API}/servers", {"limit": 3, "marker": ids[0]}).json()
    assert [s["id"] for s in summary["servers"]] == ids[1:4]
    assert "/compute/v2.1/servers?" in summary["servers_links"][0]["href"]
    assert member_client.get(f"{API}/servers", {"limit": 0}).json()["servers"] == []
    asc = member_client.get(f"{API}/servers", {"sort_key": "display_name", "sort_dir": "asc", "limit": 2,
                                                "marker": ids[3]}).json()  # ids[3] is p1
    assert [s["name"] for s in asc["servers"]] == ["p2", "p3"]
    assert error(member_client.get(f"{API}/servers", {"marker": "nope"}), 400) == "marker [nope] not found"
    error(member_client.get(f"{API}/servers", {"limit": "ten"}), 400)
    error(member_client.get(f"{API}/servers", {"limit": "-1"}), 400)


def test_marker_of_another_project_is_not_found(member_client, other_client, image):
    theirs = boot(other_client, image)["server"]["id"]
    boot(member_client, image)
    error(member_client.get(f"{API}/servers", {"marker": theirs}), 400)


# --- faults and addresses ----------------------------------------------------------------------


def test_fault_of_an_errored_server(member_client, admin_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    row = instance(server_id)
    instance_service.record_fault(row, "No valid host was found.", code=500, details="Traceback: ...")
    instance_service.update_state(row, vm_state=states.ERROR, task_state=None)
    server = show(member_client, server_id)
    assert server["status"] == "ERROR"
    assert "progress" not in server
    fault = server["fault"]
    assert fault["code"] == 500 and fault["message"] == "No valid host was found."
    assert fault["created"].endswith("Z")
    assert "details" not in fault  # a 500's details are for admins
    assert show(admin_client, server_id)["fault"]["details"] == "Traceback: ..."
    listed = member_client.get(f"{API}/servers/detail").json()["servers"]
    assert listed[0]["fault"]["message"] == "No valid host was found."


def test_addresses_and_ips(member_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    network = create_network("private", "10.30.0.0/28", bridge="brtest1")
    row = fixed_ips.allocate_fixed_ip(network, server_id, host="h1", hostname="vm")
    entry = {"version": 4, "addr": row.address, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": row.mac_address}
    assert show(member_client, server_id)["addresses"] == {"private": [entry]}
    assert member_client.get(f"{API}/servers/detail").json()["servers"][0]["addresses"] == {"private": [entry]}
    assert member_client.get(f"{API}/servers/{server_id}/ips").json() == {"addresses": {"private": [entry]}}
    assert member_client.get(f"{API}/servers/{server_id}/ips/private").json() == {"private": [entry]}
    error(member_client.get(f"{API}/servers/{server_id}/ips/public"), 404)


GARBAGE = [None, [], "x", 1, True, {}, {"server": None}, {"server": []}, {"server": {"name": None}},
           {"metadata": None}, {"metadata": {"k": {"x": 1}}}, {"meta": "x"}, {"reboot": "x"},
           {"rebuild": None}, {"rebuild": {"imageRef": 5}}, {"os-getConsoleOutput": []},
           {"server": {"name": "a", "imageRef": ["x"], "flavorRef": {"x": 1}}},
           {"server": {"name": "a", "imageRef": "x", "flavorRef": "1", "networks": [None]}},
           {"server": {"name": "a", "imageRef": "x", "flavorRef": "1", "block_device_mapping_v2": "x"}},
           {"server": {"name": "a", "imageRef": "x", "flavorRef": "1", "min_count": "x"}},
           {"server": {"name": "a", "imageRef": "x", "flavorRef": "1", "accessIPv6": 6}}]


def test_garbage_bodies_get_an_error_envelope_never_a_500(member_client, image):
    server_id = boot(member_client, image)["server"]["id"]
    instance_service.update_state(instance(server_id), vm_state=states.ACTIVE, task_state=None, host="h1")
    targets = [("post", "servers"), ("put", f"servers/{server_id}"), ("post", f"servers/{server_id}/action"),
               ("post", f"servers/{server_id}/metadata"), ("put", f"servers/{server_id}/metadata"),
               ("put", f"servers/{server_id}/metadata/k")]
    for method, path in targets:
        for body in GARBAGE:
            response = getattr(member_client, method)(f"{API}/{path}", body, format="json")
            assert 400 <= response.status_code < 500, (method, path, body, response.content)
            assert response.status_code == 400 or response.status_code == 409, (method, path, body)
            (name,) = response.json()
            assert response.json()[name]["code"] == response.status_code
    assert show(member_client, server_id)["status"] == "ACTIVE"
