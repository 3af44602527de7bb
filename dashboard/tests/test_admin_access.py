"""Every admin page and action is the admin's: a member (of its own or of another project) gets
the API's 403 and nothing changes. Also the task-monitor link, the hypervisors' instance bar,
the all-instances project filter, and a failed build's fault on the admin's rows."""
import pytest

from compute.models import Flavor
from compute.services import actions
from identity.models import Project, QuotaClass, User
from network.models import Network

ADMIN_GETS = [
    "/dashboard/admin/flavors/", "/dashboard/admin/flavors/p.x/access/", "/dashboard/admin/projects/",
    "/dashboard/admin/projects/{project}/", "/dashboard/admin/users/", "/dashboard/admin/quotas/",
    "/dashboard/admin/networks/", "/dashboard/admin/floating-ranges/", "/dashboard/admin/instances/",
    "/dashboard/admin/hypervisors/", "/dashboard/admin/services/",
]
ADMIN_POSTS = [
    ("/dashboard/admin/flavors/", {"name": "evil", "vcpus": 1, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0,
                                   "swap": 0}),
    ("/dashboard/admin/flavors/p.x/delete/", {}),
    ("/dashboard/admin/flavors/p.x/access/", {"project": "{project}"}),
    ("/dashboard/admin/flavors/p.x/access/remove/", {"project": "{project}"}),
    ("/dashboard/admin/projects/", {"name": "evil"}),
    ("/dashboard/admin/projects/{project}/enable/", {"enabled": "0"}),
    ("/dashboard/admin/projects/{project}/roles/", {"user": "{user}", "role": "admin"}),
    ("/dashboard/admin/projects/{project}/roles/remove/", {"user": "{user}", "role": "member"}),
    ("/dashboard/admin/projects/{project}/quotas/", {"instances": 1000}),
    ("/dashboard/admin/users/", {"name": "evil", "password": "x"}),
    ("/dashboard/admin/quotas/", {"instances": 1000}),
    ("/dashboard/admin/networks/", {"label": "evil", "cidr": "10.249.0.0/28", "bridge": "cptda5"}),
    ("/dashboard/admin/networks/00000000-0000-0000-0000-000000000000/delete/", {}),
    ("/dashboard/admin/floating-ranges/", {"ip_range": "10.249.0.240/30"}),
    ("/dashboard/admin/floating-ranges/delete/", {"ip_range": "10.249.0.240/30"}),
    ("/dashboard/admin/services/update/", {"host": "h", "binary": "nova-compute", "disable": "1"}),
]


def _fill(value, who):
    return value.format(project=who["project"].id, user=who["user"].id) if isinstance(value, str) else value


@pytest.mark.parametrize("who", ["member", "other"])
def test_members_get_403_on_every_admin_page_and_action(who, member, other):
    person = {"member": member, "other": other}[who]
    Flavor.objects.create(flavorid="p.x", name="p.x", memory_mb=64, vcpus=1, is_public=False)
    counts = (Flavor.objects.count(), Project.objects.count(), User.objects.count(), QuotaClass.objects.count(),
              Network.objects.count())
    for url in ADMIN_GETS:
        response = person["client"].get(_fill(url, member))
        assert response.status_code == 403, url
        assert "Not allowed" in response.content.decode(), url
    for url, data in ADMIN_POSTS:
        response = person["client"].post(_fill(url, member), {k: _fill(v, member) for k, v in data.items()})
        assert response.status_code == 403, url
    assert counts == (Flavor.objects.count(), Project.objects.count(), User.objects.count(),
                      QuotaClass.objects.count(), Network.objects.count())
    assert Project.objects.get(pk=member["project"].pk).enabled
    assert not Flavor.objects.get(flavorid="p.x").is_deleted
    html = person["client"].get("/dashboard/").content.decode()
    assert "/dashboard/admin/flavors/" not in html and 'id="flower-link"' not in html


def test_admin_nav_has_every_panel_and_the_task_monitor(admin, settings):
    html = admin["client"].get("/dashboard/", HTTP_HOST="cloud.example.org:8774").content.decode()
    nav = html[html.index('aria-label="Admin"'):html.index("</nav>", html.index('aria-label="Admin"'))]
    for url in ("flavors", "projects", "users", "quotas", "networks", "floating-ranges", "hypervisors", "services"):
        assert f'href="/dashboard/admin/{url}/"' in nav, url
    assert 'href="http://cloud.example.org:5555/" id="flower-link"' in nav
    settings.FLOWER_URL = "https://ops.example.org/flower/"
    html = admin["client"].get("/dashboard/").content.decode()
    assert 'href="https://ops.example.org/flower/" id="flower-link"' in html


def test_hypervisors_show_the_instance_count_against_the_limit(admin, settings):
    from cloudproj.testing.factories import register_host as _host

    settings.MAX_INSTANCES_PER_HOST = 8
    _host("host-i", vcpus=4, memory_mb=2048, local_gb=20, num_instances=2)
    html = admin["client"].get("/dashboard/admin/hypervisors/").content.decode()
    assert "Instances</span>" in html and 'max="8" value="2"' in html and "2 of 8  (25%)" in html


def test_all_instances_filter_by_project(admin, member, other, make_instance):
    make_instance(member["project"], member["user"], name="mine-vm")
    make_instance(other["project"], other["user"], name="theirs-vm")
    html = admin["client"].get(f"/dashboard/admin/instances/?project={other['project'].id}").content.decode()
    assert "theirs-vm" in html and "mine-vm" not in html
    assert f'<option value="{other["project"].id}" selected>other</option>' in html
    html = admin["client"].get("/dashboard/admin/instances/").content.decode()
    assert "theirs-vm" in html and "mine-vm" in html


def test_a_failed_build_shows_its_reason_on_the_admin_rows_not_a_traceback(admin, member, make_instance):
    instance = make_instance(member["project"], member["user"], name="too-big", vm_state="error", power_state=0,
                             host=None)
    from compute.scheduler.base import NoValidHost, no_valid_host

    try:
        raise no_valid_host(5, [("RamFilter", 5)])
    except NoValidHost as exc:
        actions.record_fault(instance, exc)  # as the build task does: the traceback goes to details
    for client, url in ((admin["client"], "/dashboard/admin/instances/"), (member["client"], "/dashboard/instances/")):
        html = client.get(url).content.decode()
        row = html[html.index(f'id="instance-{instance.uuid}"'):]
        row = row[:row.index("</tr>")]
        assert "ERROR" in row and "No valid host was found." in row and "(5 hosts: RamFilter removed 5)" in row
        assert "Traceback" not in html
