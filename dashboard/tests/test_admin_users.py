"""Issue 20, item 4: an admin edits, disables, resets the password of and deletes users, and
edits projects; every user changes its own password. Through identity's services and policy."""
import pytest
from django.test import Client
from rest_framework.exceptions import AuthenticationFailed

from compute.models import Instance
from identity.models import Project, User
from identity.services import accounts, tokens

USERS = "/dashboard/admin/users/"


def _html(response):
    return response.content.decode()


def test_admin_edits_and_disables_a_user_whose_tokens_are_revoked(admin, member):
    user = member["user"]
    token_id, _ = tokens.issue_token(user, member["project"])
    response = admin["client"].post(f"{USERS}{user.id}/", {
        "edit-name": "demo-renamed", "edit-email": "demo@example.org", "edit-default_project": member["project"].id},
        follow=True)
    assert "User demo-renamed saved (disabled)." in _html(response)
    user.refresh_from_db()
    assert (user.username, user.email, user.is_active) == ("demo-renamed", "demo@example.org", False)
    assert Client().post("/dashboard/login/", {"username": "demo-renamed", "password": "secret-pass"}).status_code == 401
    with pytest.raises(AuthenticationFailed):  # the API refuses its token too
        tokens.find_valid_token(token_id)


def test_a_duplicate_user_name_is_a_form_error_and_nothing_changes(admin, member):
    response = admin["client"].post(f"{USERS}{member['user'].id}/", {"edit-name": "admin", "edit-enabled": "on"})
    assert response.status_code == 400 and "A user named &#x27;admin&#x27; already exists." in _html(response)
    member["user"].refresh_from_db()
    assert member["user"].username == "demo-user"


def test_admin_cannot_disable_or_delete_itself(admin):
    me = admin["user"]
    response = admin["client"].post(f"{USERS}{me.id}/", {"edit-name": "admin"})
    assert response.status_code == 400 and "You cannot disable the user you are logged in as." in _html(response)
    response = admin["client"].post(f"{USERS}{me.id}/delete/", follow=True)
    assert "You cannot delete the user you are logged in as." in _html(response)
    me.refresh_from_db()
    assert me.is_active


def test_admin_resets_a_password_and_deletes_a_user(admin, member):
    user = member["user"]
    mismatch = admin["client"].post(f"{USERS}{user.id}/password/", {"reset-password": "a-new-pass-1",
                                                                      "reset-confirm": "other"})
    assert mismatch.status_code == 400 and "The two passwords differ." in _html(mismatch)
    admin["client"].post(f"{USERS}{user.id}/password/", {"reset-password": "a-new-pass-1",
                                                          "reset-confirm": "a-new-pass-1"})
    user.refresh_from_db()
    assert accounts.check_password(user, "a-new-pass-1")
    response = admin["client"].post(f"{USERS}{user.id}/delete/", follow=True)
    assert "User demo-user deleted." in _html(response)
    assert not User.objects.filter(pk=user.id).exists()


def test_members_get_403_on_the_user_admin_pages(member, other):
    client = member["client"]
    target = other["user"]
    assert client.post(f"{USERS}{target.id}/", {"edit-name": "x", "edit-enabled": "on"}).status_code == 403
    assert client.post(f"{USERS}{target.id}/password/", {"reset-password": "p", "reset-confirm": "p"}).status_code == 403
    assert client.post(f"{USERS}{target.id}/delete/").status_code == 403
    assert User.objects.filter(pk=target.id, username="other-user").exists()


def test_a_user_changes_its_own_password_and_stays_logged_in(member):
    client = member["client"]
    wrong = client.post("/dashboard/password/", {"original": "nope", "password": "n3w-pass", "confirm": "n3w-pass"})
    assert wrong.status_code == 400 and "The current password is wrong." in _html(wrong)
    response = client.post("/dashboard/password/", {"original": "secret-pass", "password": "n3w-pass",
                                                    "confirm": "n3w-pass"}, follow=True)
    assert "Your password is changed." in _html(response)
    assert client.get("/dashboard/").status_code == 200  # the session survives
    assert Client().post("/dashboard/login/", {"username": "demo-user", "password": "n3w-pass"}).status_code == 302


def test_admin_renames_a_project(admin, member):
    project = member["project"]
    response = admin["client"].post(f"/dashboard/admin/projects/{project.id}/edit/",
                                    {"name": "demo-2", "description": "renamed"}, follow=True)
    assert "Project demo-2 saved." in _html(response)
    project.refresh_from_db()
    assert (project.name, project.description) == ("demo-2", "renamed")
    duplicate = admin["client"].post(f"/dashboard/admin/projects/{project.id}/edit/", {"name": "admin"})
    assert duplicate.status_code == 400
    assert Project.objects.get(pk=project.id).name == "demo-2"



def test_a_user_with_servers_can_be_deleted_and_its_servers_stay(admin, member, make_instance):
    """As Keystone: the user goes, its servers are kept (the project's admins still see them)."""
    server = make_instance(member["project"], member["user"], name="still-here")
    response = admin["client"].post(f"{USERS}{member['user'].id}/delete/", follow=True)
    assert "User demo-user deleted." in _html(response)
    assert not User.objects.filter(pk=member["user"].id).exists()
    assert Instance.objects.filter(pk=server.pk).exists()
