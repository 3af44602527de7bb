"""Floating IPs: allocate, associate, disassociate, release, by a netadmin; isolation."""
from unittest import mock

import pytest

from cloudproj.testing.clients import logged_in
from floating.models import FloatingIP
from floating.services import ranges
from network.models import FixedIP
from network.services.networks import create_network


@pytest.fixture
def netadmin(make_account, role):
    from identity.services import accounts

    user, project, _token = make_account("demo", "member", username="demo-net")
    accounts.assign_role(user, role("netadmin"), project)
    return {"user": user, "project": project, "client": logged_in("demo-net")}


@pytest.fixture
def pool(db):
    return ranges.create_range("203.0.113.0/30", pool="nova")


@pytest.fixture
def placed(netadmin, make_instance):
    instance = make_instance(netadmin["project"], netadmin["user"], name="web")
    network = create_network("fipnet", "10.245.0.0/28", bridge="cptdsh1")
    network.host = "host-a"
    network.save(update_fields=["host"])
    fixed = FixedIP.objects.filter(network=network, reserved=False).order_by("id").first()
    FixedIP.objects.filter(pk=fixed.pk).update(instance_uuid=instance.uuid, allocated=True, host="host-a")
    return instance


def test_allocate_associate_disassociate_release(netadmin, pool, placed, django_capture_on_commit_callbacks):
    client = netadmin["client"]
    assert client.post("/dashboard/floating-ips/allocate/", {"pool": "nova"}).status_code == 302
    row = FloatingIP.objects.get(project=netadmin["project"])
    page = client.get("/dashboard/floating-ips/").content.decode()
    assert f"Allocated {row.address} from pool nova." in page and ">web<" in page
    with mock.patch("cloudproj.rpc.app.send_task") as send, \
            django_capture_on_commit_callbacks(execute=True):
        client.post("/dashboard/floating-ips/associate/", {"address": row.address, "instance": str(placed.uuid)})
    row.refresh_from_db()
    assert row.instance_uuid == placed.uuid and row.host == "host-a"
    assert send.call_args.kwargs["queue"].endswith("host-a")
    instances_page = client.get("/dashboard/instances/").content.decode()
    assert f"{row.address} (floating)" in instances_page
    with mock.patch("cloudproj.rpc.app.send_task"):
        client.post(f"/dashboard/floating-ips/{row.address}/disassociate/")
    row.refresh_from_db()
    assert row.instance_uuid is None
    client.post(f"/dashboard/floating-ips/{row.address}/release/")
    row.refresh_from_db()
    assert row.project_id is None


def test_members_without_netadmin_may_look_but_not_change(member, pool):
    client = member["client"]
    page = client.get("/dashboard/floating-ips/").content.decode()
    assert "needs the netadmin role" in page and 'id="allocate-form"' not in page
    response = client.post("/dashboard/floating-ips/allocate/", {"pool": "nova"})
    assert response.status_code == 403 and not FloatingIP.objects.filter(project__isnull=False).exists()


def test_an_empty_pool_is_a_readable_message(netadmin, db):
    ranges.create_range("203.0.113.8/32", pool="tiny")
    client = netadmin["client"]
    client.post("/dashboard/floating-ips/allocate/", {"pool": "tiny"})
    client.post("/dashboard/floating-ips/allocate/", {"pool": "tiny"})
    assert "No more floating IPs in pool tiny." in client.get("/dashboard/floating-ips/").content.decode()


def test_another_projects_addresses_and_instances_are_404(netadmin, other, pool, make_instance, placed):
    theirs = FloatingIP.objects.order_by("id").first()
    FloatingIP.objects.filter(pk=theirs.pk).update(project=other["project"])
    client = netadmin["client"]
    assert theirs.address not in client.get("/dashboard/floating-ips/").content.decode()
    for action in ("release", "disassociate"):
        assert client.post(f"/dashboard/floating-ips/{theirs.address}/{action}/").status_code == 404, action
    response = client.post("/dashboard/floating-ips/associate/", {"address": theirs.address,
                                                                  "instance": str(placed.uuid)})
    assert response.status_code == 404
    mine = FloatingIP.objects.filter(project__isnull=True).order_by("id").first()
    FloatingIP.objects.filter(pk=mine.pk).update(project=netadmin["project"])
    other_instance = make_instance(other["project"], other["user"], name="theirs")
    response = client.post("/dashboard/floating-ips/associate/", {"address": mine.address,
                                                                  "instance": str(other_instance.uuid)})
    assert response.status_code == 404


def test_floating_ip_list_queries_do_not_grow(netadmin, make_instance, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    ranges.create_range("198.51.100.0/26", pool="nova")
    rows = list(FloatingIP.objects.order_by("id")[:40])
    for i, row in enumerate(rows):
        instance = make_instance(netadmin["project"], netadmin["user"], name=f"vm{i}")
        FloatingIP.objects.filter(pk=row.pk).update(project=netadmin["project"],
                                                    instance_uuid=instance.uuid if i % 2 else None)
    with django_assert_max_num_queries(16):
        page = netadmin["client"].get("/dashboard/floating-ips/").content.decode()
    assert page.count('<tr id="fip-') == 40
