"""The instances table, its live rows, row actions and the launch form (Django test client)."""
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from compute.models import Instance, Service
from compute.services import hosts
from identity.services import quotas
from images.services.registry import register_image
from network.models import FixedIP
from network.services.networks import create_network


def test_table_shows_the_projects_instances_with_every_column(member, other, make_instance):
    mine = make_instance(member["project"], member["user"], name="web-1", key_name="k1", availability_zone="nova")
    theirs = make_instance(other["project"], other["user"], name="theirs-1")
    network = create_network("dashnet", "10.245.0.0/28", bridge="cptdsh0")
    free = FixedIP.objects.filter(network=network, reserved=False).order_by("id").first()
    FixedIP.objects.filter(pk=free.pk).update(instance_uuid=mine.uuid, allocated=True)
    html = member["client"].get("/dashboard/instances/").content.decode()
    assert "web-1" in html and "theirs-1" not in html
    row = html[html.index(f'id="instance-{mine.uuid}"'):]
    row = row[: row.index("</tr>")]
    for text in ("dash.tiny", "k1", "ACTIVE", "running", "10.245.0."):
        assert text in row, text
    assert str(theirs.uuid) not in html


def test_search_and_status_filter(member, make_instance):
    make_instance(member["project"], member["user"], name="alpha")
    make_instance(member["project"], member["user"], name="beta", vm_state="stopped", power_state=4)
    client = member["client"]
    page = client.get("/dashboard/instances/?q=alp").content.decode()
    assert "alpha" in page and "beta" not in page
    page = client.get("/dashboard/instances/?status=SHUTOFF").content.decode()
    assert "beta" in page and "alpha" not in page


def test_admin_sees_all_projects_with_a_host_filter(admin, member, make_instance):
    make_instance(member["project"], member["user"], name="on-a", host="host-a")
    make_instance(member["project"], member["user"], name="on-b", host="host-b")
    hosts.register_service("host-a", "nova-compute")
    page = admin["client"].get("/dashboard/admin/instances/?host=host-a").content.decode()
    assert "on-a" in page and "on-b" not in page and "demo" in page


def _poll(client, since, created_after=None, **params):
    query = {"since": since.isoformat(), "created_after": (created_after or since).isoformat(), **params}
    return client.get("/dashboard/instances/changes/", query)


def test_poll_returns_only_changed_rows_new_rows_and_deleted_rows(member, make_instance):
    old = timezone.now() - timedelta(minutes=5)
    quiet = make_instance(member["project"], member["user"], name="quiet")
    busy = make_instance(member["project"], member["user"], name="busy", vm_state="building", task_state="spawning")
    gone = make_instance(member["project"], member["user"], name="gone")
    Instance.all_objects.filter(pk__in=[quiet.pk, busy.pk, gone.pk]).update(updated_at=old, created_at=old)
    page_loaded = timezone.now()
    Instance.all_objects.filter(pk=busy.pk).update(vm_state="active", task_state=None, updated_at=timezone.now())
    Instance.all_objects.filter(pk=gone.pk).update(deleted_at=timezone.now(), vm_state="deleted")
    fresh = make_instance(member["project"], member["user"], name="fresh")
    html = _poll(member["client"], page_loaded, created_after=old).content.decode()
    # each out-of-band row sits in a <template>: after the poller's <div>, the HTML parser
    # would drop a bare <tr> (htmx then inserted its cells as loose text)
    assert f'<template><tr id="instance-{busy.uuid}" data-status="ACTIVE" data-version="' in html
    assert f'id="instance-{busy.uuid}"' in html and 'hx-swap-oob="true">' in html
    assert f'<template><tr id="instance-{gone.uuid}" hx-swap-oob="delete">' in html
    assert '<template><tbody hx-swap-oob="afterbegin:#instance-rows">' in html
    assert f'id="instance-{fresh.uuid}"' in html
    assert str(quiet.uuid) not in html
    assert 'id="instance-poller"' in html and "every 2.0s" in html


def test_poll_never_shows_another_projects_rows(member, other, make_instance):
    since = timezone.now() - timedelta(seconds=30)
    theirs = make_instance(other["project"], other["user"], name="theirs")
    Instance.all_objects.filter(pk=theirs.pk).update(deleted_at=timezone.now())
    theirs2 = make_instance(other["project"], other["user"], name="theirs2")
    html = _poll(member["client"], since).content.decode()
    assert str(theirs.uuid) not in html and str(theirs2.uuid) not in html


def test_poll_rejects_bad_cursors(member):
    assert member["client"].get("/dashboard/instances/changes/?since=x&created_after=y").status_code == 400


def test_list_and_poll_queries_do_not_grow_with_rows(member, make_instance, django_assert_max_num_queries):
    for i in range(60):
        make_instance(member["project"], member["user"], name=f"many-{i}", key_name="k", image_ref=f"img-{i}")
    client = member["client"]
    with django_assert_max_num_queries(16):
        response = client.get("/dashboard/instances/")
    assert response.content.decode().count('<tr id="instance-') == 50
    with django_assert_max_num_queries(16):
        _poll(client, timezone.now() - timedelta(minutes=1), created_after=timezone.now() - timedelta(hours=1))


def test_admin_list_queries_do_not_grow(admin, member, make_instance, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    for i in range(60):
        make_instance(member["project"], member["user"], name=f"many-{i}")
    with django_assert_max_num_queries(20):
        response = admin["client"].get("/dashboard/admin/instances/")
    assert response.status_code == 200 and response.content.decode().count('<tr id="instance-') == 50


@pytest.fixture
def up_host(db):
    service = hosts.register_service("host-a", "nova-compute")
    Service.objects.filter(pk=service.pk).update(last_seen_up=timezone.now())
    return service


def test_row_action_goes_through_the_compute_service(member, make_instance, up_host,
                                                    django_capture_on_commit_callbacks):
    instance = make_instance(member["project"], member["user"], name="rb")
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = member["client"].post(f"/dashboard/instances/{instance.uuid}/action/",
                                         {"action": "reboot", "type": "HARD"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "HARD_REBOOT" in html and "Requested hard reboot of rb" in html and 'hx-swap-oob="true"' in html
    assert send.call_args.args[0] == "compute.instance_action"
    assert Instance.objects.get(pk=instance.pk).task_state == "rebooting_hard"


def test_an_action_the_state_does_not_allow_is_a_readable_message(member, make_instance, up_host):
    instance = make_instance(member["project"], member["user"], name="off", vm_state="stopped", power_state=4)
    response = member["client"].post(f"/dashboard/instances/{instance.uuid}/action/", {"action": "stop"},
                                     HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "off: Cannot &#x27;stop&#x27; instance" in response.content.decode()


def test_delete_without_a_live_host_removes_the_instance(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="del", host=None)
    response = member["client"].post(f"/dashboard/instances/{instance.uuid}/delete/")
    assert response.status_code == 302
    assert Instance.all_objects.get(pk=instance.pk).deleted_at is not None


def test_another_projects_instance_is_a_404_on_every_page(member, other, make_instance):
    theirs = make_instance(other["project"], other["user"], name="theirs")
    client = member["client"]
    base = f"/dashboard/instances/{theirs.uuid}/"
    for path in (base, base + "console/"):
        assert client.get(path).status_code == 404, path
    for path, data in ((base + "action/", {"action": "stop"}), (base + "delete/", {})):
        assert client.post(path, data).status_code == 404, path
    assert Instance.objects.get(pk=theirs.pk).task_state is None


@pytest.fixture
def launchable(member, flavor, tmp_path, settings):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    disk = tmp_path / "tiny.raw"
    disk.write_bytes(b"\0" * 65536)
    image = register_image(disk, "dash-image", disk_format="raw", visibility="public", owner=member["project"])
    create_network("dashnet", "10.245.0.0/28", bridge="cptdsh0")
    quotas.set_quotas(member["project"], {"instances": 3, "cores": 20, "ram": 4096})
    return {"flavor": flavor, "image": image}


def test_launch_form_shows_quota_headroom_and_flavor_sizes(member, launchable):
    html = member["client"].get("/dashboard/instances/launch/").content.decode()
    assert "dash.tiny: 1 vCPU, 256 MB RAM, 0 GB disk" in html
    assert 'data-resource="instances" data-used="0" data-limit="3"' in html
    assert "0 of 3  used" in html or "0 of 3 " in html
    assert 'id="flavor-sizes"' in html and "dash-image" in html


def test_launch_creates_servers_through_the_api_service(member, launchable, django_capture_on_commit_callbacks):
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = member["client"].post("/dashboard/instances/launch/", {
            "name": "launched", "count": 2, "flavor": "dash.tiny", "image": str(launchable["image"].id),
            "user_data": "#!/bin/sh\necho hi\n", "metadata": "role = web\n\ntier=1",
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    rows = list(Instance.objects.filter(project=member["project"], display_name="launched"))
    assert len(rows) == 2 and all(r.task_state == "scheduling" for r in rows)
    assert rows[0].user_data == "IyEvYmluL3NoCmVjaG8gaGkK"
    assert rows[0].metadata == {"role": "web", "tier": "1"}
    assert [c.args[0] for c in send.call_args_list] == ["compute.schedule_instance"] * 2


def test_launch_over_quota_is_a_readable_error(member, launchable):
    response = member["client"].post("/dashboard/instances/launch/", {
        "name": "toomany", "count": 5, "flavor": "dash.tiny", "image": str(launchable["image"].id)})
    assert response.status_code == 400
    assert "Quota exceeded for instances: Requested 5, but already used 0 of 3 instances" in response.content.decode()
    assert not Instance.objects.filter(display_name="toomany").exists()


def test_row_forms_work_without_javascript_and_carry_csrf(member, make_instance, up_host,
                                                        django_capture_on_commit_callbacks):
    import re

    from django.test import Client

    instance = make_instance(member["project"], member["user"], name="nojs")
    client = Client(enforce_csrf_checks=True)
    client.cookies = member["client"].cookies
    html = client.get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    path = f"/dashboard/instances/{instance.uuid}/action/"
    assert client.post(path, {"action": "stop"}).status_code == 403  # no token: refused
    with mock.patch("cloudproj.rpc.app.send_task"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"action": "stop", "csrfmiddlewaretoken": token,
                                      "next": f"/dashboard/instances/{instance.uuid}/"})
    assert response.status_code == 302 and response["Location"] == f"/dashboard/instances/{instance.uuid}/"
    assert Instance.objects.get(pk=instance.pk).task_state == "powering-off"
    list_html = client.get("/dashboard/instances/").content.decode()
    assert list_html.count('name="csrfmiddlewaretoken"') >= 2  # row forms post without htmx too


def test_launch_metadata_lines_must_be_key_value(member, launchable):
    response = member["client"].post("/dashboard/instances/launch/", {
        "name": "md", "count": 1, "flavor": "dash.tiny", "image": str(launchable["image"].id), "metadata": "novalue"})
    assert response.status_code == 400 and "Line 1: write key=value." in response.content.decode()
