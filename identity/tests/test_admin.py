"""The identity pages of the Django admin, as a superuser sees them."""
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from identity.services import accounts, tokens
from identity.models import (
    Ec2Credential,
    Project,
    Quota,
    QuotaUsage,
    Reservation,
    Role,
    RoleAssignment,
    Token,
    User,
)

pytestmark = pytest.mark.django_db



@pytest.fixture
def site(client, roles):
    """A logged-in superuser client and one object of every identity model."""
    root = User.objects.create_superuser("root", "root@example.com", "root-pass")
    client.force_login(root)
    project = accounts.create_project("searchable-project", description="for the admin", manager=root)
    user = accounts.create_user("alice", "alice-pass", default_project=project, email="alice@example.com")
    accounts.assign_role(user, roles["member"], project)
    accounts.assign_role(user, roles["netadmin"])
    _, token = tokens.issue_token(user, project)
    quota = Quota.objects.create(project=project, resource="instances", hard_limit=5)
    usage = QuotaUsage.objects.create(project=project, resource="instances", in_use=1, reserved=1)
    reservation = Reservation.objects.create(
        usage=usage, delta=1, expires_at=timezone.now() + timedelta(hours=1), uuid=uuid.uuid4()
    )
    objects = {
        Project: project,
        User: user,
        Role: roles["member"],
        RoleAssignment: RoleAssignment.objects.get(user=user, project=project),
        Token: token,
        Ec2Credential: Ec2Credential.objects.get(user=user),
        Quota: quota,
        QuotaUsage: usage,
        Reservation: reservation,
    }
    return client, objects


SEARCHES = {
    Project: "searchable",
    User: "alice",
    Role: "member",
    RoleAssignment: "alice",
    Token: "alice",
    Ec2Credential: "alice",
    Quota: "searchable",
    QuotaUsage: "searchable",
    Reservation: "searchable",
}


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(SEARCHES), ids=lambda m: m.__name__)
def test_changelist_search_and_change_page(site, model):
    client, objects = site
    obj = objects[model]
    listing = client.get(admin_url(model, "changelist"))
    assert listing.status_code == 200
    found = client.get(admin_url(model, "changelist"), {"q": SEARCHES[model]})
    assert found.status_code == 200
    assert found.context["cl"].result_count >= 1
    assert obj.pk in {row.pk for row in found.context["cl"].result_list}
    missing = client.get(admin_url(model, "changelist"), {"q": "no-such-thing-anywhere"})
    assert missing.status_code == 200 and missing.context["cl"].result_count == 0
    change = client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200


def test_lists_never_show_secrets(site):
    client, objects = site
    credential = objects[Ec2Credential]
    page = client.get(admin_url(Ec2Credential, "changelist")).content.decode()
    assert credential.access in page and credential.secret not in page
    token = objects[Token]
    page = client.get(admin_url(Token, "changelist")).content.decode()
    assert token.audit_id in page
    # The stored hash is not a search key.
    by_hash = client.get(admin_url(Token, "changelist"), {"q": token.id_hash})
    assert by_hash.context["cl"].result_count == 0


def test_tokens_are_read_only_and_can_be_revoked(site):
    client, objects = site
    token = objects[Token]
    assert client.get(admin_url(Token, "add")).status_code == 403
    response = client.post(admin_url(Token, "change", token.pk), {"revoked": "on"})
    assert response.status_code == 403
    token.refresh_from_db()
    assert not token.revoked
    response = client.post(
        admin_url(Token, "changelist"), {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked


def test_user_add_hashes_the_password_and_gives_ec2_credentials(site):
    client, objects = site
    project = objects[Project]
    assert client.get(admin_url(User, "add")).status_code == 200
    response = client.post(
        admin_url(User, "add"),
        {
            "username": "bob",
            "email": "bob@example.com",
            "default_project": project.pk,
            "usable_password": "true",
            "password1": "A-long-enough-pass-42",
            "password2": "A-long-enough-pass-42",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    bob = User.objects.get(username="bob")
    assert bob.password != "A-long-enough-pass-42" and bob.check_password("A-long-enough-pass-42")
    assert bob.default_project == project
    assert Ec2Credential.objects.filter(user=bob, project=project).exists()


def test_user_password_change_form(site):
    client, objects = site
    alice = objects[User]
    url = reverse("admin:auth_user_password_change", args=[alice.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"password1": "Another-long-pass-43", "password2": "Another-long-pass-43", "usable_password": "true"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("Another-long-pass-43")


def test_user_list_shows_default_project_and_global_roles(site):
    client, objects = site
    page = client.get(admin_url(User, "changelist"), {"q": "alice"}).content.decode()
    assert "searchable-project" in page and "netadmin" in page


def test_autocomplete_for_foreign_keys(site):
    client, objects = site
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "search", "app_label": "identity", "model_name": "roleassignment", "field_name": "project"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["searchable-project"]


def test_deleting_a_project_in_the_admin_keeps_its_tombstone_and_quota_usage(site):
    client, objects = site
    project = objects[Project]
    url = reverse("admin:identity_project_delete", args=[project.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    tombstone = Project.all_objects.get(pk=project.pk)
    assert tombstone.is_deleted and not tombstone.enabled
    assert not RoleAssignment.objects.filter(project=tombstone).exists()
    assert QuotaUsage.objects.filter(project=tombstone, resource="instances", in_use=1).exists()
    changelist = client.get(reverse("admin:identity_project_changelist")).content.decode()
    assert "searchable-project" in changelist  # operators still find it, with its deleted_at
