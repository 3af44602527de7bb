"""The latest openstacksdk and python-openstackclient negotiate this cloud's highest compute
microversion: what each step from 2.12 on changed, through them (real client processes against
the live API; no worker runs, so servers are moved to ACTIVE in the database as a host would)."""
import pytest
from django.utils import timezone

from cloudproj.testing.servers import make_active
from compute.api.base import MAX_VERSION
from compute.models import Instance, InstanceAction, Service

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MEMBER = dict(user="demo-user", project="demo")


@pytest.fixture
def cloud(admin_account, member_account, compute_host, paths, image, monkeypatch):
    from cloudproj.celery import app

    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)  # no broker: tasks are dropped
    compute_host("host-a")
    return image


def heartbeat():
    """host-a's agent reported just now (these tests outlast SERVICE_DOWN_TIME)."""
    Service.objects.filter(host="host-a").update(last_seen_up=timezone.now())


def test_latest_sdk_description_groups_host_status_crash_dump(latest_sdk, cloud, member_account):
    out = latest_sdk(f"""
        server = conn.compute.create_server(name="sdk-vm", image_id="{cloud.id}", flavor_id="1",
                                            description="first words", networks="auto")
        shown = conn.compute.get_server(server.id)
        conn.compute.update_server(server, description="second words")
        group = conn.compute.create_server_group(name="soft", policies=["soft-anti-affinity"])
        got = conn.compute.get_server_group(group.id)
        print(json.dumps({{
            "id": server.id, "description": shown.description, "after": conn.compute.get_server(server.id).description,
            "group": [got.name, got.policy, got.policies, got.project_id, got.user_id],
            "max": ".".join(map(str, conn.compute.get_endpoint_data().max_microversion)),
        }}))
    """, **MEMBER)
    user, project, _token = member_account
    assert out["max"] == MAX_VERSION
    assert (out["description"], out["after"]) == ("first words", "second words")
    # from 2.64 a group has one `policy` (and `rules`); `policies` is gone
    assert out["group"] == ["soft", "soft-anti-affinity", None, project.id, user.id]

    Instance.objects.filter(uuid=out["id"]).update(host="host-a", node="host-a")
    make_active(out["id"])
    heartbeat()
    admin = latest_sdk(f"""
        print(json.dumps({{"host_status": conn.compute.get_server("{out['id']}").host_status}}))
    """)
    assert admin == {"host_status": "UP"}
    member = latest_sdk(f"""
        server = conn.compute.get_server("{out['id']}")
        conn.compute.trigger_server_crash_dump(server)
        print(json.dumps({{"host_status": server.host_status}}))
    """, **MEMBER)
    assert member == {"host_status": None}  # admins only
    assert InstanceAction.objects.filter(instance__uuid=out["id"], action="trigger_crash_dump").count() == 1


def test_latest_osc_description_groups_host_status_crash_dump(latest_osc, cloud, member_account):
    osc = latest_osc
    created = osc("server", "create", "--image", cloud.name, "--flavor", "m1.tiny", "--description", "osc words",
                  "osc-vm", **MEMBER)
    assert created["description"] == "osc words"
    assert osc("server", "show", "osc-vm", **MEMBER)["description"] == "osc words"
    done = osc("server", "set", "--description", "new words", "osc-vm", raw=True, **MEMBER)
    assert done.returncode == 0, done.stderr
    assert osc("server", "show", "osc-vm", **MEMBER)["description"] == "new words"

    group = osc("server", "group", "create", "--policy", "soft-affinity", "together", **MEMBER)
    assert "soft-affinity" in str(group.get("policy", group.get("policies")))
    user, project, _token = member_account
    shown = osc("server", "group", "show", "together", **MEMBER)
    assert (shown["project_id"], shown["user_id"]) == (project.id, user.id)

    Instance.objects.filter(uuid=created["id"]).update(host="host-a", node="host-a")
    make_active(created["id"])
    heartbeat()
    assert osc("server", "show", created["id"])["host_status"] == "UP"  # admin
    assert osc("server", "show", created["id"], **MEMBER).get("host_status") is None  # admins only
    dumped = osc("server", "dump", "create", "osc-vm", raw=True, **MEMBER)
    assert dumped.returncode == 0, dumped.stderr
    assert InstanceAction.objects.filter(instance__uuid=created["id"], action="trigger_crash_dump").count() == 1
