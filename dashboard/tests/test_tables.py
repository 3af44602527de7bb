"""Issue 20: the tables every panel shares (sort, pages, bulk actions) and the user's settings
(page size, time zone), through the Django test client: what the pages show."""
import re
from datetime import datetime, timezone as dt_timezone
from unittest import mock

import pytest
from django.utils import timezone

from compute.models import Instance, KeyPair, Service
from compute.services import hosts
from dashboard.models import UserSettings
from volumes.models import Volume


def names_in(html: str, prefix: str = "instance") -> list[str]:
    """The rows' names in page order (the instances table's name links)."""
    if prefix == "instance":
        return re.findall(r'<td class="name" data-label="Name"><a [^>]*>([^<]+)</a>', html)
    return re.findall(rf'<tr id="{prefix}-[^"]*">.*?<td data-label="Name">(?:<a [^>]*>)?([^<]+)(?:</a>)?</td>', html, re.S)


def sort_state(html: str, label: str) -> str:
    match = re.search(rf'<th scope="col" aria-sort="(\w+)"><a href="[^"]*" class="sort"[^>]*>{label}<', html)
    assert match, f"no sortable header {label}"
    return match.group(1)


@pytest.fixture
def up_host(db):
    service = hosts.register_service("host-a", "nova-compute")
    Service.objects.filter(pk=service.pk).update(last_seen_up=timezone.now())
    return service


def test_sorting_by_a_column_orders_the_rows_and_marks_the_header(member, make_instance):
    for name in ("bravo", "alpha", "charlie"):
        make_instance(member["project"], member["user"], name=name)
    client = member["client"]
    default = client.get("/dashboard/instances/").content.decode()
    assert names_in(default) == ["charlie", "alpha", "bravo"]  # newest first
    assert sort_state(default, "Created") == "descending" and sort_state(default, "Name") == "none"
    up = client.get("/dashboard/instances/?sort=name&dir=asc").content.decode()
    assert names_in(up) == ["alpha", "bravo", "charlie"]
    assert sort_state(up, "Name") == "ascending"
    # the Name header's link now sorts the other way
    assert re.search(r'aria-sort="ascending"><a href="\?sort=name&amp;dir=desc"', up)
    down = client.get("/dashboard/instances/?sort=name&dir=desc").content.decode()
    assert names_in(down) == ["charlie", "bravo", "alpha"] and sort_state(down, "Name") == "descending"


@pytest.mark.parametrize("query", ["sort=password", "sort=display_name%3Bdrop", "sort=image&dir=up",
                                   "sort=actions", "page=zz", "page=-3", "page=99999"])
def test_a_bad_sort_key_or_page_falls_back_never_a_500(member, make_instance, query):
    make_instance(member["project"], member["user"], name="only-one")
    response = member["client"].get(f"/dashboard/instances/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert names_in(html) == ["only-one"]


def test_paging_uses_the_users_page_size_and_keeps_the_sort(member, make_instance):
    for n in range(12):
        make_instance(member["project"], member["user"], name=f"vm-{n:02d}")
    UserSettings.objects.create(user=member["user"], page_size=5, timezone="UTC")
    client = member["client"]
    first = client.get("/dashboard/instances/?sort=name").content.decode()
    assert names_in(first) == [f"vm-{n:02d}" for n in range(5)]
    assert "1–5 of 12" in first and "Page 1 of 3" in first
    assert 'href="?sort=name&amp;page=2" rel="next"' in first
    second = client.get("/dashboard/instances/?sort=name&page=2").content.decode()
    assert names_in(second) == [f"vm-{n:02d}" for n in range(5, 10)] and "6–10 of 12" in second
    assert 'rel="prev"' in second


def test_admin_tables_sort_too(admin, member, make_instance):
    Volume.objects.create(name="zeta", size=3, availability_zone="nova", project_id=admin["project"].id,
                          user_id=admin["user"].id, status="available")
    Volume.objects.create(name="eta", size=1, availability_zone="nova", project_id=admin["project"].id,
                          user_id=admin["user"].id, status="available")
    page = admin["client"].get("/dashboard/volumes/?sort=size&dir=desc").content.decode()
    assert names_in(page, "volume") == ["zeta", "eta"]
    page = admin["client"].get("/dashboard/volumes/?sort=size").content.decode()
    assert names_in(page, "volume") == ["eta", "zeta"]
    for path in ("/dashboard/admin/projects/?sort=users&dir=desc", "/dashboard/admin/users/?sort=project",
                 "/dashboard/admin/flavors/?sort=vcpus", "/dashboard/admin/networks/?sort=vlan",
                 "/dashboard/admin/services/?sort=heartbeat", "/dashboard/admin/hypervisors/?sort=instances",
                 "/dashboard/admin/aggregates/?sort=nope", "/dashboard/admin/instances/?sort=project",
                 "/dashboard/keypairs/?sort=type", "/dashboard/security-groups/?sort=rules",
                 "/dashboard/floating-ips/?sort=pool", "/dashboard/server-groups/?sort=policy",
                 "/dashboard/images/?sort=size&dir=desc", "/dashboard/volumes/?s_sort=volume"):
        assert admin["client"].get(path).status_code == 200, path


def test_every_list_has_checkboxes_labelled_with_the_rows_name(member, make_instance):
    make_instance(member["project"], member["user"], name="web-7")
    html = member["client"].get("/dashboard/instances/").content.decode()
    assert 'aria-label="Select web-7"' in html and 'aria-label="Select all instances on this page"' in html
    assert 'data-confirm="Delete {selected}?" data-confirm-selection="bulk-instances"' in html
    assert '<summary aria-label="Actions for web-7">Actions</summary>' in html


def test_bulk_stop_and_delete_instances_through_the_compute_services(member, other, make_instance, up_host,
                                                                    django_capture_on_commit_callbacks):
    a = make_instance(member["project"], member["user"], name="a-1")
    b = make_instance(member["project"], member["user"], name="b-2")
    off = make_instance(member["project"], member["user"], name="off-3", vm_state="stopped", power_state=4)
    theirs = make_instance(other["project"], other["user"], name="theirs")
    client = member["client"]
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboard/bulk/instances/", {
            "action": "stop", "ids": [a.uuid, b.uuid, off.uuid, theirs.uuid], "next": "/dashboard/instances/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/instances/"
    assert {call.args[0] for call in send.call_args_list} == {"compute.instance_action"}
    assert Instance.objects.get(pk=a.pk).task_state == "powering-off"
    assert Instance.objects.get(pk=b.pk).task_state == "powering-off"
    assert Instance.objects.get(pk=theirs.pk).task_state is None  # another project's: untouched
    page = client.get("/dashboard/instances/").content.decode()
    assert "Requested stop of a-1, b-2." in page
    assert "off-3: Cannot" in page and f"{theirs.uuid}: not found." in page
    gone = [make_instance(member["project"], member["user"], name=f"gone-{n}", host=None) for n in range(2)]
    client.post("/dashboard/bulk/instances/", {"action": "delete", "ids": [g.uuid for g in gone]})
    assert all(Instance.all_objects.get(pk=g.pk).deleted_at is not None for g in gone)


def test_bulk_delete_key_pairs_and_volumes(member, other):
    for name in ("k1", "k2", "k3"):
        KeyPair.objects.create(user=member["user"], name=name, public_key="ssh-rsa AAAA", fingerprint="00")
    KeyPair.objects.create(user=other["user"], name="k9", public_key="ssh-rsa AAAA", fingerprint="00")
    client = member["client"]
    client.post("/dashboard/bulk/keypairs/", {"action": "delete", "ids": ["k1", "k3", "k9"]})
    assert sorted(KeyPair.objects.values_list("name", flat=True)) == ["k2", "k9"]
    page = client.get("/dashboard/keypairs/").content.decode()
    assert "Deleted key pairs k1, k3." in page and "k9: not found." in page
    vols = [Volume.objects.create(name=f"v{n}", size=1, availability_zone="nova", project_id=member["project"].id,
                                  user_id=member["user"].id, status="available") for n in range(2)]
    client.post("/dashboard/bulk/volumes/", {"action": "delete", "ids": [str(v.uuid) for v in vols]})
    assert all(Volume.all_objects.get(pk=v.pk).status in ("deleting", "deleted") for v in vols)


def test_bulk_refuses_unknown_tables_actions_and_empty_selections(member):
    client = member["client"]
    assert client.post("/dashboard/bulk/nope/", {"action": "delete", "ids": ["x"]}).status_code == 404
    response = client.post("/dashboard/bulk/keypairs/", {"action": "explode", "ids": ["x"]})
    assert response.status_code == 400 and "Choose one of these actions: delete." in response.content.decode()
    response = client.post("/dashboard/bulk/keypairs/", {"action": "delete"})
    assert response.status_code == 302
    assert "Select at least one row first." in client.get(response["Location"]).content.decode()
    response = client.post("/dashboard/bulk/keypairs/", {"action": "delete", "ids": [f"k{n}" for n in range(201)]})
    assert response.status_code == 400
    assert client.get("/dashboard/bulk/keypairs/").status_code == 405


def test_settings_page_size_and_time_zone_change_what_pages_show(member, make_instance):
    client = member["client"]
    made = make_instance(member["project"], member["user"], name="clocked")
    Instance.objects.filter(pk=made.pk).update(created_at=datetime(2026, 1, 15, 12, 0, tzinfo=dt_timezone.utc))
    page = client.get("/dashboard/instances/").content.decode()
    assert "2026-01-15 12:00 UTC" in page
    form = client.get("/dashboard/settings/").content.decode()
    assert 'id="id_page_size"' in form and 'value="50"' in form and '<option value="Asia/Tokyo">' in form
    response = client.post("/dashboard/settings/", {"page_size": "7", "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert "7 rows per page, times in Asia/Tokyo" in client.get("/dashboard/settings/").content.decode()
    page = client.get("/dashboard/instances/").content.decode()
    assert "2026-01-15 21:00 JST" in page
    for n in range(9):
        make_instance(member["project"], member["user"], name=f"more-{n}")
    assert len(names_in(client.get("/dashboard/instances/").content.decode())) == 7


@pytest.mark.parametrize("data,field", [({"page_size": "2", "timezone": "UTC"}, "page_size"),
                                        ({"page_size": "500", "timezone": "UTC"}, "page_size"),
                                        ({"page_size": "x", "timezone": "UTC"}, "page_size"),
                                        ({"page_size": "20", "timezone": "Mars/Olympus"}, "timezone"),
                                        ({"page_size": "20", "timezone": "<script>"}, "timezone")])
def test_bad_settings_are_refused_on_the_form(member, data, field):
    response = member["client"].post("/dashboard/settings/", data)
    assert response.status_code == 400
    assert 'class="field-error" role="alert"' in response.content.decode()
    assert not UserSettings.objects.filter(user=member["user"]).exists()


def test_live_lists_poll_for_the_same_sort_and_page(member, make_instance):
    make_instance(member["project"], member["user"], name="p1")
    client = member["client"]
    newest_first = client.get("/dashboard/instances/").content.decode()
    assert "first_page=1" in newest_first  # new servers are put on top of the newest-first first page
    by_name = client.get("/dashboard/instances/?sort=name").content.decode()
    assert "first_page=0" in by_name  # not on top of a list sorted by name: they wait for the next load
    Volume.objects.create(name="busy", size=1, availability_zone="nova", project_id=member["project"].id,
                          user_id=member["user"].id, status="creating")
    volumes = client.get("/dashboard/volumes/?sort=size&dir=desc&page=1").content.decode()
    assert 'hx-get="/dashboard/volumes/?sort=size&amp;dir=desc&amp;page=1"' in volumes
