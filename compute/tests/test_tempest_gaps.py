"""Compute API answers tempest 47 checks (conformance/FAILURES.md), each as a client sees it."""
import pytest

from cloudproj.testing.servers import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_tasks(monkeypatch):
    from cloudproj.celery import app

    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: sent.append((name, args)))
    return sent


def test_os_volumes_proxy_limit_and_offset(member_client, no_tasks):
    ids = []
    for n in range(3):
        created = member_client.post(f"{API}/os-volumes", {"volume": {"size": 1, "display_name": f"v{n}"}},
                                     format="json")
        assert created.status_code == 200, created.content
        ids.append(created.json()["volume"]["id"])
    newest_first = list(reversed(ids))
    for path in ("os-volumes", "os-volumes/detail"):
        everything = member_client.get(f"{API}/{path}").json()["volumes"]
        assert [v["id"] for v in everything] == newest_first
        assert [v["id"] for v in member_client.get(f"{API}/{path}?limit=2").json()["volumes"]] == newest_first[:2]
        page = member_client.get(f"{API}/{path}?offset=1&limit=1").json()["volumes"]
        assert [v["id"] for v in page] == newest_first[1:2]
        assert [v["id"] for v in member_client.get(f"{API}/{path}?offset=2").json()["volumes"]] == newest_first[2:]
        assert member_client.get(f"{API}/{path}?offset=5").json()["volumes"] == []
        for bad in ("limit=-1", "offset=-1", "limit=x", "offset=1.5"):
            response = member_client.get(f"{API}/{path}?{bad}")
            assert response.status_code == 400 and "badRequest" in response.json(), bad


def test_extensions_list_what_is_served(member_client):
    listed = member_client.get(f"{API}/extensions").json()["extensions"]
    names = {e["name"] for e in listed}
    assert {"Hosts", "Consoles", "RemoteConsoles", "SimpleTenantUsage"} <= names
    shown = member_client.get(f"{API}/extensions/os-consoles")
    assert shown.status_code == 200 and shown.json()["extension"]["alias"] == "os-consoles"
    assert member_client.get(f"{API}/extensions/os-cells").status_code == 404


def test_security_group_rule_keeps_the_cidr_as_written(member_client):
    group = member_client.post(f"{API}/os-security-groups", {"security_group": {"name": "web", "description": "w"}},
                               format="json").json()["security_group"]
    body = {"security_group_rule": {"parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22,
                                    "to_port": 22, "cidr": "10.2.3.124/24"}}
    created = member_client.post(f"{API}/os-security-group-rules", body, format="json")
    assert created.status_code == 200, created.content
    assert created.json()["security_group_rule"]["ip_range"] == {"cidr": "10.2.3.124/24"}
    body["security_group_rule"]["cidr"] = "10.2.3.0/24"  # the same network: the same rule
    again = member_client.post(f"{API}/os-security-group-rules", body, format="json")
    assert again.status_code == 400 and "already exists" in again.json()["badRequest"]["message"]
    shown = member_client.get(f"{API}/os-security-groups/{group['id']}").json()["security_group"]
    assert [r["ip_range"] for r in shown["rules"]] == [{"cidr": "10.2.3.124/24"}]


def test_images_filtered_by_server_id_or_url(member_client, member_account, server, paths):
    import io

    from images.models import Image
    from images.services.registry import register_image

    snap = register_image(io.BytesIO(b"y" * 512), "snap", disk_format="raw", owner=member_account[1])
    Image.objects.filter(pk=snap.pk).update(properties={"instance_uuid": server, "image_type": "snapshot"})
    url = f"http://testserver/compute/v2.1/servers/{server}"
    for query in (server, url, url + "/"):
        for path in ("images", "images/detail"):
            listed = member_client.get(f"{API}/{path}", {"server": query}).json()["images"]
            assert [i["id"] for i in listed] == [str(snap.id)], (path, query)
    assert member_client.get(f"{API}/images", {"server": "http://x/servers/nope"}).json()["images"] == []


def test_inject_network_info_pushes_the_dhcp_entries_again(admin_client, member_client, server, no_tasks,
                                                           django_capture_on_commit_callbacks):
    from cloudproj.testing.servers import act, make_active
    from compute.models import InstanceAction
    from network.services import fixed_ips
    from network.services.networks import create_network

    body = {"injectNetworkInfo": None}
    assert act(admin_client, server, body).status_code == 409  # no host yet: nothing serves it
    row = make_active(server, host="inject-host")
    network = create_network("injectnet", "10.251.0.0/28", bridge="cptinj0")
    fixed_ips.allocate_fixed_ip(network, row.uuid, host="inject-host")
    assert act(member_client, server, body).status_code == 403  # admins only, as in Nova
    assert act(admin_client, server, {"injectNetworkInfo": {"x": 1}}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = act(admin_client, server, body)
    assert response.status_code == 202, response.content
    assert ("network.refresh_dhcp", [network.pk, "inject-host"]) in no_tasks
    assert InstanceAction.objects.filter(instance=row, action="injectNetworkInfo", finish_time__isnull=False).exists()
    assert act(admin_client, "00000000-0000-0000-0000-000000000000", body).status_code == 404


def test_os_server_password_shows_and_clears_what_the_guest_posted(member_client, other_client, server):
    from metadata.services import passwords

    api = f"{API}/servers/{server}/os-server-password"
    assert member_client.get(api).json() == {"password": ""}
    passwords.post(server, b"ZW5jcnlwdGVk")  # as the guest's POST to the metadata service stores it
    assert member_client.get(api).json() == {"password": "ZW5jcnlwdGVk"}
    assert other_client.get(api).status_code == 404 and other_client.delete(api).status_code == 404
    assert member_client.delete(api).status_code == 204
    assert member_client.get(api).json() == {"password": ""}
    assert member_client.get(f"{API}/servers/00000000-0000-0000-0000-000000000000/os-server-password"
                             ).status_code == 404


def test_disk_config_is_kept_through_create_update_and_rebuild(member_client, image):
    from cloudproj.testing.servers import act, boot, make_active

    created = boot(member_client, image, "dcf", **{"OS-DCF:diskConfig": "AUTO"})["server"]
    assert created["OS-DCF:diskConfig"] == "AUTO"
    server = created["id"]

    def shown():
        return member_client.get(f"{API}/servers/{server}").json()["server"]["OS-DCF:diskConfig"]

    assert shown() == "AUTO"
    make_active(server)
    updated = member_client.put(f"{API}/servers/{server}", {"server": {"OS-DCF:diskConfig": "MANUAL"}},
                                format="json")
    assert updated.status_code == 200 and updated.json()["server"]["OS-DCF:diskConfig"] == "MANUAL"
    assert shown() == "MANUAL"
    bad = member_client.put(f"{API}/servers/{server}", {"server": {"OS-DCF:diskConfig": "SOMETIMES"}}, format="json")
    assert bad.status_code == 400 and shown() == "MANUAL"
    rebuilt = act(member_client, server, {"rebuild": {"imageRef": str(image.id), "OS-DCF:diskConfig": "AUTO"}})
    assert rebuilt.status_code == 202 and rebuilt.json()["server"]["OS-DCF:diskConfig"] == "AUTO"
    assert shown() == "AUTO"
    # without it, the image's auto_disk_config property decides (MANUAL when it has none)
    assert boot(member_client, image, "plain")["server"]["OS-DCF:diskConfig"] == "MANUAL"
    image.properties = {"auto_disk_config": "True"}
    image.save(update_fields=["properties"])
    assert boot(member_client, image, "from-image")["server"]["OS-DCF:diskConfig"] == "AUTO"


def test_restore_needs_a_soft_deleted_server(member_client, other_client, server):
    from cloudproj.testing.servers import act, make_active

    make_active(server)
    refused = act(member_client, server, {"restore": None})
    assert refused.status_code == 409 and "conflictingRequest" in refused.json()
    assert act(other_client, server, {"restore": None}).status_code == 404
    assert act(member_client, "00000000-0000-0000-0000-000000000000", {"restore": None}).status_code == 404


def test_the_reclaim_task_is_registered_and_does_nothing_without_an_interval(settings):
    from cloudproj import task_names
    from cloudproj.celery import app
    import compute.tasks  # noqa: F401

    assert task_names.RECLAIM_SOFT_DELETED in app.tasks
    settings.RECLAIM_INSTANCE_INTERVAL = 0
    assert app.tasks[task_names.RECLAIM_SOFT_DELETED].run() == []


def test_server_external_events(admin_client, member_client, make_account, server, no_tasks,
                                django_capture_on_commit_callbacks):
    from cloudproj.testing.clients import TokenClient
    from cloudproj.testing.servers import make_active
    from network.services import fixed_ips
    from network.services.networks import create_network

    api = f"{API}/os-server-external-events"
    event = {"name": "network-changed", "server_uuid": server}
    assert member_client.post(api, {"events": [event]}, format="json").status_code == 403
    # not on a host yet: 422 for the event, and no event accepted is a 404
    assert admin_client.post(api, {"events": [event]}, format="json").status_code == 404
    row = make_active(server, host="event-host")
    network = create_network("eventnet", "10.252.0.0/28", bridge="cptevt0")
    fixed_ips.allocate_fixed_ip(network, row.uuid, host="event-host")
    service = TokenClient(make_account("services", "service", username="neutron")[2])  # the service role
    with django_capture_on_commit_callbacks(execute=True):
        response = service.post(api, {"events": [event]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"events": [{"name": "network-changed", "server_uuid": server, "code": 200,
                                           "status": "completed"}]}
    assert ("network.refresh_dhcp", [network.pk, "event-host"]) in no_tasks  # the DHCP entries rewritten
    missing = {"name": "network-vif-plugged", "server_uuid": "00000000-0000-0000-0000-000000000000", "tag": "vdb"}
    mixed = admin_client.post(api, {"events": [event, missing]}, format="json")
    assert mixed.status_code == 207, mixed.content
    assert [(e["code"], e["status"]) for e in mixed.json()["events"]] == [(200, "completed"), (404, "failed")]
    for bad in ({"events": []}, {"events": [{"name": "reboot", "server_uuid": server}]},
                {"events": [{**event, "status": "done"}]}, {"events": [{**event, "colour": "red"}]}):
        assert admin_client.post(api, bad, format="json").status_code == 400, bad
