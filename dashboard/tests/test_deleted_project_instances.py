"""Servers of a deleted project (issue 17 part 2, issue 20 item 1): the admin lists them through
the API and on "All instances" (marked "project deleted"), and deletes them through the API,
the dashboard and `project scrub`, the quota usage going down once per server.

No worker runs here: the servers are placed on a host whose agent is not up, so deleting one
is finished by the API itself (as for a host that is down). The real pipeline, with agents,
volumes and floating IPs, is compute/tests/test_project_deletion_pipeline.py."""
import io
import re

import pytest
from django.core.management import call_command

from cloudproj.testing.clients import logged_in
from cloudproj.testing.servers import API, boot, make_active
from compute.models import Instance
from identity.models import Project, QuotaUsage

pytestmark = pytest.mark.django_db


def usage(project_id) -> dict:
    rows = QuotaUsage.objects.filter(project_id=project_id, resource__in=("instances", "cores", "ram"))
    return dict(rows.values_list("resource", "in_use"))


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr id="instance-([0-9a-f-]+)"', html)


def test_servers_of_a_deleted_project_are_listed_marked_and_deleted_through_each_path(
    admin_account, admin_client, member_account, member_client, image
):
    project_id = member_account[1].id
    servers = [boot(member_client, image, f"orphan-{i}")["server"]["id"] for i in range(3)]
    for server_id in servers:
        make_active(server_id, host="gone-host")
    assert usage(project_id) == {"instances": 3, "cores": 3, "ram": 3 * 512}

    assert admin_client.delete(f"/v3/projects/{project_id}").status_code == 204
    assert not Project.objects.filter(pk=project_id).exists()

    # the API lists them for the admin, by project
    listed = admin_client.get(f"{API}/servers/detail?all_tenants=1&project_id={project_id}")
    assert listed.status_code == 200
    assert sorted(s["id"] for s in listed.json()["servers"]) == sorted(servers)
    assert {s["status"] for s in listed.json()["servers"]} == {"ACTIVE"}

    # "All instances" shows every one of them, marked, and its caption counts what it shows
    dashboard = logged_in("admin")
    html = dashboard.get("/dashboard/admin/instances/").content.decode()
    assert sorted(rows_of(html)) == sorted(servers)
    assert html.count(">project deleted</span>") == 3
    assert "Instances, 3 in all" in html
    assert f'<option value="{project_id}">demo (project deleted)</option>' in html
    filtered = dashboard.get(f"/dashboard/admin/instances/?project={project_id}").content.decode()
    assert sorted(rows_of(filtered)) == sorted(servers)

    # the API deletes one: usage goes down by one server
    assert admin_client.delete(f"{API}/servers/{servers[0]}").status_code == 204
    assert Instance.all_objects.get(uuid=servers[0]).is_deleted
    assert usage(project_id) == {"instances": 2, "cores": 2, "ram": 2 * 512}
    assert admin_client.delete(f"{API}/servers/{servers[0]}").status_code == 404
    assert usage(project_id) == {"instances": 2, "cores": 2, "ram": 2 * 512}

    # the dashboard deletes another
    response = dashboard.post(f"/dashboard/instances/{servers[1]}/delete/", {"all": "1"})
    assert response.status_code == 302
    assert Instance.all_objects.get(uuid=servers[1]).is_deleted
    assert usage(project_id) == {"instances": 1, "cores": 1, "ram": 512}
    html = dashboard.get("/dashboard/admin/instances/").content.decode()
    assert rows_of(html) == [servers[2]] and "Instances, 1 in all" in html

    # `project scrub` deletes what is left, a server stuck `deleting` by an earlier failure too,
    # and a second run finds nothing to do
    Instance.objects.filter(uuid=servers[2]).update(task_state="deleting")
    out = io.StringIO()
    call_command("project", "scrub", project_id, stdout=out)
    assert f"servers deleted: 1 ({servers[2]})" in out.getvalue()
    assert "nothing left" in out.getvalue()
    assert usage(project_id) == {"instances": 0, "cores": 0, "ram": 0}
    out = io.StringIO()
    call_command("project", "scrub", project_id, stdout=out)
    assert "servers deleted" not in out.getvalue() and "nothing left" in out.getvalue()
    assert not Instance.objects.filter(project_id=project_id).exists()


def test_a_server_whose_project_row_is_gone_altogether_is_still_shown(admin_account, make_instance):
    """Projects deleted before tombstones existed left no row: the server still shows, marked."""
    user, _project, _token = admin_account
    ghost = Project(id="0" * 32, name="ghost")  # never saved: no row at all
    instance = make_instance(ghost, user, name="ghost-vm")
    html = logged_in("admin").get("/dashboard/admin/instances/").content.decode()
    assert rows_of(html) == [str(instance.uuid)]
    row = html[html.index(f'id="instance-{instance.uuid}"'):]
    assert "0" * 32 in row[:row.index("</tr>")] and ">project deleted</span>" in row


def test_the_hypervisor_page_links_to_its_instances(admin_account):
    from cloudproj.testing.factories import register_host

    register_host("host-link", vcpus=2, memory_mb=2048, local_gb=20, num_instances=3)
    html = logged_in("admin").get("/dashboard/admin/hypervisors/").content.decode()
    assert '<a href="/dashboard/admin/instances/?host=host-link">3 instance(s)</a>' in html


def test_servers_of_projects_deleted_before_tombstones_get_one_and_can_be_deleted(
    admin_account, admin_client, make_instance
):
    """Migration identity 0010: a server naming a project id without a row gets a tombstone for
    it; the server is then listed and deleted like any other (no foreign-key failure)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("identity.migrations.0010_tombstones_for_projects_deleted_before")
    user = admin_account[0]
    ghost = Project(id="f" * 32, name="ghost")  # never saved: deleted before tombstones existed
    instance = make_instance(ghost, user, name="legacy-vm", host="gone-host")
    migration.add_tombstones(apps, None)
    migration.add_tombstones(apps, None)  # a second run adds nothing
    tombstone = Project.all_objects.get(pk="f" * 32)
    assert tombstone.is_deleted and tombstone.name == f"deleted-{'f' * 32}"
    html = logged_in("admin").get("/dashboard/admin/instances/").content.decode()
    assert f"deleted-{'f' * 32}" in html and ">project deleted</span>" in html
    assert admin_client.delete(f"{API}/servers/{instance.uuid}").status_code == 204
    assert Instance.all_objects.get(pk=instance.pk).is_deleted
    assert usage("f" * 32) == {"instances": 0, "cores": 0, "ram": 0}


def test_servers_of_a_disabled_project_are_deleted_by_the_admin(admin_account, admin_client, member_account,
                                                               member_client, image):
    project_id = member_account[1].id
    server_id = boot(member_client, image, "disabled-vm")["server"]["id"]
    make_active(server_id, host="gone-host")
    response = admin_client.patch(f"/v3/projects/{project_id}", {"project": {"enabled": False}}, format="json")
    assert response.status_code == 200 and response.json()["project"]["enabled"] is False
    assert admin_client.delete(f"{API}/servers/{server_id}").status_code == 204
    assert Instance.all_objects.get(uuid=server_id).is_deleted
    assert usage(project_id) == {"instances": 0, "cores": 0, "ram": 0}
