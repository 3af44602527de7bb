"""Compute microversions from 2.12 on as a client sees them: each step's body changes at its
version and not below it, with the bodies of Nova's api_samples for that version."""
from datetime import timedelta

import pytest
from django.utils import timezone

from cloudproj.testing.servers import API, boot
from compute.models import Instance, Service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def call(method, path, version, body=None, status=200):
    response = method(f"{API}/{path}", body, format="json", **v(version)) if body is not None else method(
        f"{API}/{path}", **v(version))
    assert response.status_code == status, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json() if response.content else None


def test_2_13_server_groups_show_their_project_and_user(member_client, member_account):
    user, project, _token = member_account
    req = {"server_group": {"name": "test", "policies": ["anti-affinity"]}}
    old = call(member_client.post, "os-server-groups", "2.12", req)["server_group"]
    assert set(old) == {"id", "name", "policies", "members", "metadata"}

    made = call(member_client.post, "os-server-groups", "2.13", req)["server_group"]
    # doc/api_samples/os-server-groups/v2.13/server-groups-post-resp.json
    assert made == {"id": made["id"], "name": "test", "policies": ["anti-affinity"], "members": [], "metadata": {},
                    "project_id": project.id, "user_id": user.id}
    assert call(member_client.get, f"os-server-groups/{made['id']}", "2.13")["server_group"] == made
    listed = call(member_client.get, "os-server-groups", "2.13")["server_groups"]
    assert [g["id"] for g in listed] == [old["id"], made["id"]]
    assert all(g["project_id"] == project.id and g["user_id"] == user.id for g in listed)
    assert "project_id" not in call(member_client.get, f"os-server-groups/{made['id']}", "2.12")["server_group"]


@pytest.mark.parametrize("policy", ["soft-affinity", "soft-anti-affinity"])
def test_2_15_soft_policies(member_client, policy):
    req = {"server_group": {"name": "soft", "policies": [policy]}}
    refused = member_client.post(f"{API}/os-server-groups", req, format="json", **v("2.14"))
    assert refused.status_code == 400 and "badRequest" in refused.json()
    assert call(member_client.get, "os-server-groups", "2.14")["server_groups"] == []

    made = call(member_client.post, "os-server-groups", "2.15", req)["server_group"]
    assert made["policies"] == [policy] and made["members"] == []
    assert call(member_client.get, f"os-server-groups/{made['id']}", "2.15")["server_group"]["policies"] == [policy]
    bad = member_client.post(f"{API}/os-server-groups", {"server_group": {"name": "x", "policies": ["soft"]}},
                             format="json", **v("2.15"))
    assert bad.status_code == 400


def test_2_16_host_status_for_admins(admin_client, member_client, image, compute_host):
    service = compute_host("host-a")
    server_id = boot(member_client, image, "web")["server"]["id"]
    url = f"servers/{server_id}"

    # not placed yet: "" for an admin; never shown below 2.16 nor to a member
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == ""
    assert "host_status" not in call(admin_client.get, url, "2.15")["server"]
    assert "host_status" not in call(member_client.get, url, "2.16")["server"]

    Instance.objects.filter(uuid=server_id).update(host="host-a", node="host-a")
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "UP"
    listed = call(admin_client.get, "servers/detail?all_tenants=1", "2.16")["servers"]
    assert [s["host_status"] for s in listed] == ["UP"]
    assert "host_status" not in call(admin_client.get, "servers?all_tenants=1", "2.16")["servers"][0]
    assert "host_status" not in call(member_client.get, "servers/detail", "2.16")["servers"][0]

    Service.objects.filter(pk=service.pk).update(disabled=True)
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "MAINTENANCE"
    Service.objects.filter(pk=service.pk).update(forced_down=True)
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "DOWN"
    Service.objects.filter(pk=service.pk).update(forced_down=False, disabled=False,
                                                 last_seen_up=timezone.now() - timedelta(days=1))
    assert call(admin_client.get, url, "2.16")["server"]["host_status"] == "UNKNOWN"
    # what update answers has no host_status before 2.75
    renamed = call(admin_client.put, url, "2.16", {"server": {"name": "www"}})["server"]
    assert "host_status" not in renamed


@pytest.fixture
def sent(monkeypatch):
    """The tasks the API publishes (after commit), as (name, args, queue)."""
    from cloudproj.celery import app

    messages = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: messages.append(
        (name, args, queue)))
    return messages


def test_2_17_trigger_crash_dump(member_client, admin_client, other_client, image, sent,
                                 django_capture_on_commit_callbacks):
    from cloudproj.testing.servers import make_active
    from compute.services import instances as instance_service

    server_id = boot(member_client, image, "web")["server"]["id"]
    action = f"servers/{server_id}/action"
    body = {"trigger_crash_dump": None}
    # a versioned action: not there below 2.17
    assert "itemNotFound" in call(member_client.post, action, "2.16", body, status=404)
    # building: not running yet
    assert "conflictingRequest" in call(member_client.post, action, "2.17", body, status=409)

    row = make_active(server_id)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert call(member_client.post, action, "2.17", body, status=202) is None
    assert sent == [("compute.instance_action", [server_id, sent[0][1][1], "trigger_crash_dump", {}],
                     "compute.host-a")]
    actions = call(member_client.get, f"servers/{server_id}/os-instance-actions", "2.17")["instanceActions"]
    assert actions[0]["action"] == "trigger_crash_dump" and actions[0]["request_id"] == sent[0][1][1]
    assert Instance.objects.get(uuid=server_id).vm_state == "active"  # no state moves

    assert "badRequest" in call(member_client.post, action, "2.17", {"trigger_crash_dump": {}}, status=400)
    assert "itemNotFound" in call(other_client.post, action, "2.17", body, status=404)
    instance_service.update_state(row, power_state=4)  # shut off (a guest that powered itself off)
    assert "conflictingRequest" in call(member_client.post, action, "2.17", body, status=409)
    instance_service.update_state(row, power_state=1, vm_state="stopped")
    assert "conflictingRequest" in call(member_client.post, action, "2.17", body, status=409)
    instance_service.update_state(row, vm_state="active", locked=True, locked_by="admin")
    assert "conflictingRequest" in call(member_client.post, action, "2.17", body, status=409)
    with django_capture_on_commit_callbacks(execute=True):
        call(admin_client.post, action, "2.17", body, status=202)  # an admin passes the lock


def test_2_17_the_host_sends_the_nmi_and_records_it(member_client, image, monkeypatch):
    from cloudproj.testing.servers import make_active
    from compute.models import InstanceActionEvent, InstanceFault
    from compute.services import actions, crash_dump_host, host_resources
    from compute.virt.driver import InstanceInvalidState

    server_id = boot(member_client, image, "web")["server"]["id"]
    row = make_active(server_id)
    actions.start_action(row, "trigger_crash_dump", request_id="req-nmi")

    class Driver:
        calls: list = []
        error = None

        def trigger_crash_dump(self, instance):
            self.calls.append(instance)
            if self.error:
                raise self.error

    driver = Driver()
    monkeypatch.setattr(host_resources, "driver", lambda: driver)
    assert crash_dump_host.run(server_id, "req-nmi") is True
    assert driver.calls == [server_id]
    (evt,) = InstanceActionEvent.objects.filter(action__request_id="req-nmi")
    assert (evt.event, evt.result, evt.host) == ("compute_trigger_crash_dump", "Success", "host-a")

    actions.start_action(row, "trigger_crash_dump", request_id="req-nmi-2")
    driver.error = InstanceInvalidState("instance is shut off; only a running or paused instance can be sent an NMI")
    assert crash_dump_host.run(server_id, "req-nmi-2") is False
    (evt,) = InstanceActionEvent.objects.filter(action__request_id="req-nmi-2")
    assert evt.result == "Error" and "sent an NMI" in evt.details
    assert "sent an NMI" in InstanceFault.objects.filter(instance=row).latest("id").message
    assert Instance.objects.get(uuid=server_id).vm_state == "active"


def test_2_19_server_description(member_client, image):
    from cloudproj.testing.servers import make_active

    create = {"server": {"name": "new-server-test", "description": "new-server-description",
                         "imageRef": str(image.id), "flavorRef": "1"}}
    # below 2.19 there is no such field; a server made there is described by its name (as Nova)
    assert "badRequest" in call(member_client.post, "servers", "2.18", create, status=400)
    plain = {k: v for k, v in create["server"].items() if k != "description"}
    old = call(member_client.post, "servers", "2.18", {"server": {**plain, "name": "old"}}, status=202)["server"]["id"]
    assert "description" not in call(member_client.get, f"servers/{old}", "2.18")["server"]
    assert call(member_client.get, f"servers/{old}", "2.19")["server"]["description"] == "old"

    made = call(member_client.post, "servers", "2.19", create, status=202)["server"]
    assert "description" not in made  # the create answer is the same at every version
    shown = call(member_client.get, f"servers/{made['id']}", "2.19")["server"]
    assert shown["description"] == "new-server-description"
    listed = call(member_client.get, "servers/detail", "2.19")["servers"]
    assert {s["name"]: s["description"] for s in listed} == {"new-server-test": "new-server-description",
                                                             "old": "old"}
    assert "description" not in call(member_client.get, "servers", "2.19")["servers"][0]
    # at 2.19 a server created without one has none
    bare = call(member_client.post, "servers", "2.19", {"server": {**plain, "name": "bare"}}, status=202)["server"]["id"]
    assert call(member_client.get, f"servers/{bare}", "2.19")["server"]["description"] is None

    # update (doc/api_samples/servers/v2.19/server-put-req.json): the answer carries it
    put = {"server": {"name": "updated-server-test", "description": "updated-server-description"}}
    assert "badRequest" in call(member_client.put, f"servers/{made['id']}", "2.18", put, status=400)
    updated = call(member_client.put, f"servers/{made['id']}", "2.19", put)["server"]
    assert (updated["name"], updated["description"]) == ("updated-server-test", "updated-server-description")
    assert call(member_client.put, f"servers/{made['id']}", "2.19",
                {"server": {"description": None}})["server"]["description"] is None
    assert call(member_client.get, f"servers/{made['id']}", "2.19")["server"]["description"] is None

    # rebuild (v2.19/server-action-rebuild.json)
    make_active(made["id"])
    rebuild = {"rebuild": {"imageRef": str(image.id), "name": "foobar", "description": "description of foobar"}}
    assert "badRequest" in call(member_client.post, f"servers/{made['id']}/action", "2.18", rebuild, status=400)
    rebuilt = call(member_client.post, f"servers/{made['id']}/action", "2.19", rebuild, status=202)["server"]
    assert (rebuilt["name"], rebuilt["description"]) == ("foobar", "description of foobar")
    assert call(member_client.get, f"servers/{made['id']}", "2.19")["server"]["description"] == "description of foobar"

    for bad in ("x" * 256, "line\nbreak", 42):
        body = {"server": {"description": bad}}
        assert "badRequest" in call(member_client.put, f"servers/{made['id']}", "2.19", body, status=400)
        assert "badRequest" in call(member_client.post, "servers", "2.19",
                                    {"server": {**create["server"], "description": bad}}, status=400)
    assert call(member_client.put, f"servers/{made['id']}", "2.19",
                {"server": {"description": "é ünïcode ok"}})["server"]["description"] == "é ünïcode ok"
