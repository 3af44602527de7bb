"""Logging in and out, the project switcher, and the same policy as the API."""
from django.test import Client

from identity.services import accounts
from cloudproj.testing.clients import logged_in
from identity.models import Role


def test_login_page_has_labelled_fields_and_no_external_assets(db):
    response = Client().get("/dashboard/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    assert "/static/django_htmx/htmx-2" in html and "/static/dashboard/dashboard.css" in html
    assert "http://" not in html.replace('http://www.w3.org', '') and "https://" not in html


def test_pages_need_a_login(db):
    response = Client().get("/dashboard/instances/")
    assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/?next=")


def test_wrong_password_is_refused(make_account):
    make_account("demo", "member", username="demo-user")
    response = Client().post("/dashboard/login/", {"username": "demo-user", "password": "nope"})
    assert response.status_code == 401 and b"Invalid user name or password" in response.content


def test_a_user_without_any_role_gets_a_clear_message(db):
    accounts.create_user("lonely", "secret-pass")
    response = Client().post("/dashboard/login/", {"username": "lonely", "password": "secret-pass"})
    assert response.status_code == 401
    assert b"has no role in any project" in response.content
    assert "_auth_user_id" not in Client().session


def test_login_overview_and_logout(member):
    client = member["client"]
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert b"Overview of demo" in page.content and b"Quota usage" in page.content
    assert client.post("/dashboard/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_project_switcher_lists_the_users_projects_and_switches(member, roles):
    second = accounts.create_project("second")
    accounts.assign_role(member["user"], Role.objects.get(name="reader"), second)
    client = logged_in("demo-user")
    page = client.get("/dashboard/").content.decode()
    assert 'id="project-switch"' in page and ">second<" in page
    response = client.post("/dashboard/project/", {"project": second.id, "next": "/dashboard/"})
    assert response.status_code == 302
    assert b"Overview of second" in client.get("/dashboard/").content


def test_switching_to_a_project_without_a_role_is_refused(member, other):
    client = member["client"]
    client.post("/dashboard/project/", {"project": other["project"].id})
    assert b"Overview of demo" in client.get("/dashboard/").content


def test_a_revoked_role_takes_effect_without_logging_out(member, role):
    accounts.remove_role(member["user"], role("member"), member["project"])
    response = member["client"].get("/dashboard/instances/")
    assert response.status_code == 403 and b"no role in any project" in response.content


def test_the_api_policy_applies_reader_cannot_launch(make_account):
    make_account("demo", "reader", username="demo-reader")
    client = logged_in("demo-reader")
    assert client.get("/dashboard/instances/").status_code == 200  # project_reader_or_admin
    response = client.get("/dashboard/instances/launch/")
    assert response.status_code == 403 and b"compute:servers:create" in response.content


def test_admin_pages_are_forbidden_to_members(member):
    for path in ("/dashboard/admin/services/", "/dashboard/admin/hypervisors/", "/dashboard/admin/instances/"):
        response = member["client"].get(path)
        assert response.status_code == 403, path
    assert member["client"].post("/dashboard/admin/services/update/", {"host": "h", "binary": "b"}).status_code == 403


def test_front_page_links_the_dashboard(client):
    assert b'href="/dashboard/"' in client.get("/").content


def test_an_unhandled_service_error_on_a_form_post_is_a_message_not_a_500(member, rf):
    from django.contrib.messages.storage.fallback import FallbackStorage

    from cloudproj.exceptions import Conflict
    from dashboard.views.common import dashboard_view

    @dashboard_view
    def view(request):
        raise Conflict("Instance x is locked")

    request = rf.post("/dashboard/somewhere/", {"next": "/dashboard/instances/"})
    request.user, request.session = member["user"], member["client"].session
    request._messages = FallbackStorage(request)
    response = view(request)
    assert response.status_code == 302 and response["Location"] == "/dashboard/instances/"
    assert [str(m) for m in request._messages] == ["Instance x is locked"]


def test_overview_charts_the_projects_own_quota_usage(member, other, make_instance):
    from identity.services import quotas

    quotas.set_quotas(member["project"], {"instances": 4})
    quotas.commit(quotas.reserve(member["project"], {"instances": 3, "cores": 3, "ram": 768}))
    quotas.commit(quotas.reserve(other["project"], {"instances": 1}))
    html = member["client"].get("/dashboard/").content.decode()
    assert 'data-resource="instances" data-used="3" data-limit="4"' in html
    assert "3 of 4  used, <strong class=\"headroom\">1</strong> left" in html
    for label in ("vCPUs", "RAM", "Floating IPs", "Security groups", "Volumes", "Key pairs"):
        assert label in html
    other_html = other["client"].get("/dashboard/").content.decode()
    assert 'data-resource="instances" data-used="1"' in other_html
