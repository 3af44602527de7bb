"""Admin panels: projects (create, enable/disable, roles), users (create with a hashed password,
a default project and a role), per-project quotas and the default quotas."""
from django.contrib.auth.hashers import identify_hasher

from identity.services import quotas
from identity.models import Project, QuotaClass, QuotaUsage, RoleAssignment, User

PROJECTS, USERS, DEFAULTS = "/dashboard/admin/projects/", "/dashboard/admin/users/", "/dashboard/admin/quotas/"


def _html(response):
    return response.content.decode()


def test_admin_creates_a_project_and_disables_it(admin):
    client = admin["client"]
    response = client.post(PROJECTS, {"name": "research", "description": "lab", "enabled": "on"}, follow=True)
    project = Project.objects.get(name="research")
    assert project.enabled and "Project research created." in _html(response)
    html = _html(client.get(PROJECTS))
    assert f'id="project-{project.id}" data-enabled="1"' in html
    client.post(f"{PROJECTS}{project.id}/enable/", {"enabled": "0"})
    project.refresh_from_db()
    assert not project.enabled
    assert f'id="project-{project.id}" data-enabled="0"' in _html(client.get(PROJECTS))
    client.post(f"{PROJECTS}{project.id}/enable/", {"enabled": "1"})
    project.refresh_from_db()
    assert project.enabled


def test_admin_cannot_disable_the_project_it_works_in(admin):
    response = admin["client"].post(f"{PROJECTS}{admin['project'].id}/enable/", {"enabled": "0"}, follow=True)
    assert "is the one you are working in" in _html(response)
    admin["project"].refresh_from_db()
    assert admin["project"].enabled


def test_bad_project_input_is_a_message(admin, member):
    before = Project.objects.count()
    duplicate = admin["client"].post(PROJECTS, {"name": member["project"].name})
    assert duplicate.status_code == 400 and "A project named &#x27;demo&#x27; already exists." in _html(duplicate)
    control = admin["client"].post(PROJECTS, {"name": "bad\x01name"})
    assert control.status_code == 400 and "Names may not contain control characters." in _html(control)
    empty = admin["client"].post(PROJECTS, {"name": ""})
    assert empty.status_code == 400 and "This field is required." in _html(empty)
    assert Project.objects.count() == before


def test_admin_creates_a_user_who_can_log_in(admin, member, role):
    from cloudproj.testing.clients import logged_in

    response = admin["client"].post(USERS, {"name": "alice", "password": "alice-pass-1", "email": "a@example.org",
                                            "default_project": member["project"].id, "role": "member",
                                            "enabled": "on"}, follow=True)
    assert "User alice created." in _html(response)
    alice = User.objects.get(username="alice")
    assert identify_hasher(alice.password).algorithm  # stored through Django's hashers, not in clear
    assert "alice-pass-1" not in alice.password and alice.check_password("alice-pass-1")
    assert RoleAssignment.objects.filter(user=alice, project=member["project"], role__name="member").exists()
    html = _html(admin["client"].get(USERS))
    row = html[html.index(f'id="user-{alice.id}"'):]
    assert "member on" in row[:row.index("</tr>")] and "demo" in row[:row.index("</tr>")]
    page = _html(logged_in("alice", "alice-pass-1").get("/dashboard/"))
    assert "Overview of demo" in page


def test_bad_user_input_is_a_message_and_nothing_is_written(admin, member):
    client = admin["client"]
    before = User.objects.count()
    no_project = client.post(USERS, {"name": "bob", "password": "x", "role": "member"})
    assert no_project.status_code == 400 and "Choose a default project to give a role on it." in _html(no_project)
    duplicate = client.post(USERS, {"name": "demo-user", "password": "x"})
    assert duplicate.status_code == 400 and "A user named &#x27;demo-user&#x27; already exists." in _html(duplicate)
    no_password = client.post(USERS, {"name": "carol"})
    assert no_password.status_code == 400 and "This field is required." in _html(no_password)
    bad_email = client.post(USERS, {"name": "dave", "password": "x", "email": "not-an-email"})
    assert bad_email.status_code == 400 and "Enter a valid email address." in _html(bad_email)
    assert User.objects.count() == before


def test_admin_gives_and_removes_a_role(admin, member, other):
    client, project = admin["client"], member["project"]
    url = f"{PROJECTS}{project.id}/"
    response = client.post(f"{url}roles/", {"user": other["user"].id, "role": "reader"}, follow=True)
    assert "other-user now has role reader on demo." in _html(response)
    assert RoleAssignment.objects.filter(user=other["user"], project=project, role__name="reader").exists()
    assert "other-user" in _html(client.get(url))
    unknown = client.post(f"{url}roles/", {"user": other["user"].id, "role": "emperor"})
    assert unknown.status_code == 400 and "Select a valid choice" in _html(unknown)
    response = client.post(f"{url}roles/remove/", {"user": other["user"].id, "role": "reader"}, follow=True)
    assert "Role reader of other-user on demo removed." in _html(response)
    assert not RoleAssignment.objects.filter(user=other["user"], project=project).exists()


def test_project_quotas_show_usage_and_refuse_a_limit_below_it(admin, member):
    project, client = member["project"], admin["client"]
    QuotaUsage.objects.create(project=project, resource="instances", in_use=3, reserved=1)
    url = f"{PROJECTS}{project.id}/"
    html = _html(client.get(url))
    assert "4 of 10 used (1 reserved)" in html and 'max="10" value="4"' in html
    limits = {r: v for r, v in quotas.get_quotas(project).items()}
    response = client.post(f"{url}quotas/", {**limits, "instances": 2, "cores": 50})
    assert response.status_code == 400
    assert ("Quota limit must be greater than or equal to already used and reserved: "
            "instances (2 &lt; 4 used and reserved).") in _html(response)
    assert quotas.get_quotas(project)["cores"] == 20  # all or nothing
    response = client.post(f"{url}quotas/", {**limits, "instances": 4, "cores": -1}, follow=True)
    assert "Quotas of demo saved (cores -1, instances 4)." in _html(response)
    assert quotas.get_quotas(project)["instances"] == 4 and quotas.get_quotas(project)["cores"] == -1
    bad = client.post(f"{url}quotas/", {**limits, "ram": -5})
    assert bad.status_code == 400 and "greater than or equal to -1" in _html(bad)


def test_default_quotas_apply_to_projects_without_their_own(admin, member):
    client = admin["client"]
    html = _html(client.get(DEFAULTS))
    assert 'id="default-instances"><td>instances</td><td>10</td><td>10</td>' in html
    defaults = quotas.get_defaults()
    response = client.post(DEFAULTS, {**defaults, "instances": 25}, follow=True)
    assert "Default quotas saved (instances 25)." in _html(response)
    assert quotas.get_quotas(member["project"])["instances"] == 25
    assert list(QuotaClass.objects.values_list("resource", "hard_limit")) == [("instances", 25)]
    quotas.set_quota(member["project"], "instances", 7)  # a project's own limit wins
    assert quotas.get_quotas(member["project"])["instances"] == 7
    bad = client.post(DEFAULTS, {**defaults, "instances": "ten", "cores": 3})
    assert bad.status_code == 400 and "Enter a whole number." in _html(bad)
    assert quotas.get_defaults()["cores"] == 20


def test_identity_pages_do_not_grow_queries(admin, make_account, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    for i in range(25):
        make_account(f"p{i}", "member", username=f"u{i}")
    for url in (PROJECTS, USERS, DEFAULTS, f"{PROJECTS}{admin['project'].id}/"):
        with django_assert_max_num_queries(18):
            assert admin["client"].get(url).status_code == 200, url
