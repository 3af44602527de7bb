"""`/compute/v2.1/servers/{id}/os-instance-actions` through the API clients and the real CLI.

Instances are created with the service (no worker runs): the "create" action is recorded by
create_instances, the steps with actions.event() as the boot pipeline's tasks do."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cloudproj.testing.clients import TokenClient
from cloudproj.testing.factories import Ctx
from compute.models import Flavor, InstanceAction
from compute.services import actions, instances
from compute.services.flavors import ensure_default_flavors

IMAGE = {"id": "8a3c2d43-6f2e-4b8e-9f43-5a4ad0b8b0c1", "status": "active", "properties": {}, "min_disk": 0, "min_ram": 0}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
CREATE_REQ = "req-11111111-2222-3333-4444-555555555555"
REBOOT_REQ = "req-99999999-8888-7777-6666-555555555555"


def url(server_id, request_id=None):
    base = f"/compute/v2.1/servers/{server_id}/os-instance-actions"
    return f"{base}/{request_id}" if request_id else base


@pytest.fixture
def server(member_account):
    """A member's instance with a "create" action (schedule ok, spawn failed on host-a) and a
    later "reboot" action."""
    user, project, _token = member_account
    ensure_default_flavors()
    ctx = Ctx(user, project, request_id=CREATE_REQ)
    (instance,) = instances.create_instances(ctx, "vm1", Flavor.objects.get(name="m1.tiny"), IMAGE)
    create = actions.get_action(instance, CREATE_REQ)
    with actions.event(create, "schedule"):
        pass
    with pytest.raises(RuntimeError), actions.event(create, "spawn", host="host-a"):
        raise RuntimeError("libvirt said no")
    actions.finish_action(create)
    reboot = actions.start_action(instance, "reboot", Ctx(user, project, request_id=REBOOT_REQ))
    InstanceAction.objects.filter(pk=reboot.pk).update(start_time=create.start_time + timedelta(seconds=5))
    return instance


@pytest.mark.django_db
def test_list_is_newest_first(member_client, member_account, server):
    user, project, _ = member_account
    resp = member_client.get(url(server.uuid))
    assert resp.status_code == 200, resp.content
    listed = resp.json()["instanceActions"]
    assert [a["action"] for a in listed] == ["reboot", "create"]
    assert [a["request_id"] for a in listed] == [REBOOT_REQ, CREATE_REQ]
    for item in listed:
        assert set(item) == {"action", "instance_uuid", "message", "project_id", "request_id", "start_time",
                             "user_id"}
        assert item["instance_uuid"] == str(server.uuid)
        assert (item["project_id"], item["user_id"]) == (project.id, user.id)
        assert ISO.match(item["start_time"])
    assert listed[0]["message"] is None and listed[1]["message"] == "Error"
    assert member_client.get(url(server.uuid) + "/").status_code == 200


@pytest.mark.django_db
def test_show_events_without_traceback_for_members(member_client, server):
    resp = member_client.get(url(server.uuid, CREATE_REQ))
    assert resp.status_code == 200, resp.content
    action = resp.json()["instanceAction"]
    assert (action["action"], action["request_id"], action["instance_uuid"]) == ("create", CREATE_REQ, str(server.uuid))
    assert action["message"] == "Error" and ISO.match(action["start_time"])
    schedule, spawn = action["events"]
    assert set(schedule) == {"event", "start_time", "finish_time", "result"}
    assert (schedule["event"], schedule["result"], spawn["event"], spawn["result"]) == (
        "schedule", "Success", "spawn", "Error",
    )
    assert all(ISO.match(e["start_time"]) and ISO.match(e["finish_time"]) for e in (schedule, spawn))
    assert "libvirt said no" not in resp.content.decode()

    reboot = member_client.get(url(server.uuid, REBOOT_REQ)).json()["instanceAction"]
    assert reboot["action"] == "reboot" and reboot["events"] == []


@pytest.mark.django_db
def test_admins_see_traceback_host_and_details(admin_client, server):
    resp = admin_client.get(url(server.uuid, CREATE_REQ))
    assert resp.status_code == 200, resp.content
    schedule, spawn = resp.json()["instanceAction"]["events"]
    assert set(spawn) == {"event", "start_time", "finish_time", "result", "traceback", "host", "details"}
    assert spawn["host"] == "host-a" and spawn["details"] == "libvirt said no"
    assert spawn["traceback"].startswith("Traceback") and "RuntimeError: libvirt said no" in spawn["traceback"]
    assert schedule["traceback"] is None and schedule["host"] is None and schedule["result"] == "Success"
    assert [a["action"] for a in admin_client.get(url(server.uuid)).json()["instanceActions"]] == ["reboot", "create"]


@pytest.mark.django_db
def test_traceback_follows_the_policy(member_client, server, settings):
    settings.POLICY_OVERRIDES = {
        "compute:instance_actions:events": "project_reader_or_admin",
        "compute:instance_actions:list": "admin_api",
    }
    spawn = member_client.get(url(server.uuid, CREATE_REQ)).json()["instanceAction"]["events"][1]
    assert "RuntimeError" in spawn["traceback"] and "details" not in spawn
    resp = member_client.get(url(server.uuid))
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["message"] == "Policy doesn't allow compute:instance_actions:list to be performed."


@pytest.mark.django_db
def test_readers_of_the_project_may_look(make_account, server):
    _user, _project, token = make_account("demo", "reader", username="demo-reader")
    client = TokenClient(token)
    assert len(client.get(url(server.uuid)).json()["instanceActions"]) == 2
    assert client.get(url(server.uuid, CREATE_REQ)).status_code == 200


@pytest.mark.django_db
def test_other_projects_servers_are_404(make_account, server):
    _user, _project, token = make_account("other", "member", username="other-member")
    client = TokenClient(token)
    for path in (url(server.uuid), url(server.uuid, CREATE_REQ)):
        resp = client.get(path)
        assert resp.status_code == 404
        assert resp.json() == {"itemNotFound": {"code": 404, "message": f"Instance {server.uuid} could not be found."}}


@pytest.mark.django_db
def test_missing_things_are_404(member_client, server, anon_client):
    resp = member_client.get(url(server.uuid, "req-unknown"))
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["message"] == (
        f"Action for request_id req-unknown on instance {server.uuid} not found"
    )
    for bad in ("not-a-uuid", "8a3c2d43-6f2e-4b8e-9f43-5a4ad0b8b0c1"):
        assert member_client.get(url(bad)).status_code == 404
        assert member_client.get(url(bad, CREATE_REQ)).status_code == 404
    instances.soft_delete(server)
    assert member_client.get(url(server.uuid)).status_code == 404
    assert anon_client.get(url(server.uuid)).status_code == 401


@pytest.mark.django_db
def test_same_request_id_twice_shows_the_latest(member_client, member_account, server):
    user, project, _ = member_account
    later = actions.start_action(server, "stop", Ctx(user, project, request_id=REBOOT_REQ))
    InstanceAction.objects.filter(pk=later.pk).update(start_time=timezone.now() + timedelta(minutes=1))
    assert member_client.get(url(server.uuid, REBOOT_REQ)).json()["instanceAction"]["action"] == "stop"


# --- the real client ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_openstack_server_event_commands(osc, admin_account, member_account, server):
    member = dict(user="demo-user", project="demo")
    listed = osc("server", "event", "list", str(server.uuid), **member)
    assert [(e["Request ID"], e["Action"]) for e in listed] == [(REBOOT_REQ, "reboot"), (CREATE_REQ, "create")]
    assert all(e["Server ID"] == str(server.uuid) for e in listed)
    long = osc("server", "event", "list", "--long", str(server.uuid), **member)
    assert long[1]["Message"] == "Error" and long[1]["User ID"] == member_account[0].id

    shown = osc("server", "event", "show", str(server.uuid), CREATE_REQ, **member)
    assert shown["request_id"] == CREATE_REQ and shown["action"] == "create" and shown["message"] == "Error"
    events = {e["event"]: e for e in shown["events"]}
    assert events["spawn"]["result"] == "Error" and events["schedule"]["result"] == "Success"
    assert not events["spawn"]["traceback"]

    as_admin = osc("server", "event", "show", str(server.uuid), CREATE_REQ)
    spawn = next(e for e in as_admin["events"] if e["event"] == "spawn")
    assert "RuntimeError: libvirt said no" in spawn["traceback"] and spawn["host"] == "host-a"

    other = osc("server", "event", "show", str(server.uuid), "req-unknown", check=False, **member)
    assert other.returncode != 0
