"""Per-user compute quotas (`/os-quota-sets/{project}?user_id=`, Nova's semantics) as clients
see them: a user's limits inside the project's, shown, updated, detailed and deleted, and held
to when the user boots servers or adds key pairs. No workers run: servers stay in BUILD."""
import pytest

from cloudproj.testing.clients import TokenClient
from cloudproj.testing.servers import API, boot, error
from identity.services import quotas

pytestmark = pytest.mark.django_db

BASE = "/compute/v2.1"


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path."""


@pytest.fixture
def demo(member_account):
    return member_account[1]


@pytest.fixture
def user_id(member_account):
    return member_account[0].id


def url(project_id, user_id=None, suffix=""):
    query = f"?user_id={user_id}" if user_id is not None else ""
    return f"{BASE}/os-quota-sets/{project_id}{suffix}{query}"


def test_tempest_get_updated_quotas(admin_client, demo, user_id):
    """tempest's test_get_updated_quotas: the project's ram, then one user's below it."""
    resp = admin_client.put(url(demo.id), {"quota_set": {"ram": "5120"}}, format="json")
    assert resp.status_code == 200
    assert admin_client.get(url(demo.id, suffix="/detail")).json()["quota_set"]["ram"]["limit"] == 5120
    resp = admin_client.put(url(demo.id, user_id), {"quota_set": {"ram": "2048"}}, format="json")
    assert resp.status_code == 200
    assert resp.json()["quota_set"]["ram"] == 2048
    shown = admin_client.get(url(demo.id, user_id)).json()["quota_set"]
    assert shown["id"] == demo.id
    assert (shown["ram"], shown["instances"], shown["cores"]) == (2048, 10, 20)  # the rest: the project's
    # the project itself is unchanged
    assert admin_client.get(url(demo.id)).json()["quota_set"]["ram"] == 5120


def test_user_limit_cannot_exceed_the_project_or_go_below_use(admin_client, member_client, demo, user_id, image):
    quotas.set_quota(demo, "instances", 3)
    message = error(admin_client.put(url(demo.id, user_id), {"quota_set": {"instances": 4}}, format="json"), 400)
    assert "must be less than or equal to 3" in message
    error(admin_client.put(url(demo.id, user_id), {"quota_set": {"instances": -1}}, format="json"), 400)
    boot(member_client, image, "one")
    boot(member_client, image, "two")
    message = error(admin_client.put(url(demo.id, user_id), {"quota_set": {"instances": 1}}, format="json"), 400)
    assert "greater than or equal to already used and reserved 2" in message
    resp = admin_client.put(url(demo.id, user_id), {"quota_set": {"instances": 1, "force": True}}, format="json")
    assert resp.status_code == 200 and resp.json()["quota_set"]["instances"] == 1


def test_user_quota_holds_the_user_but_not_the_others(admin_client, member_client, make_account, demo, user_id,
                                                     image):
    assert admin_client.put(url(demo.id, user_id), {"quota_set": {"instances": 1}}, format="json").status_code == 200
    boot(member_client, image, "first")
    message = error(member_client.post(
        f"{API}/servers", {"server": {"name": "b", "imageRef": str(image.id), "flavorRef": "1"}}, format="json"), 403)
    assert "Quota exceeded for instances" in message and "of 1 instances" in message
    # another member of the project has the project's limits
    colleague = TokenClient(make_account("demo", "member", username="colleague")[2])
    boot(colleague, image, "theirs")
    detail = admin_client.get(url(demo.id, user_id, "/detail")).json()["quota_set"]
    assert detail["instances"] == {"limit": 1, "in_use": 1, "reserved": 0}
    assert detail["cores"]["in_use"] == 1 and detail["cores"]["limit"] == 20
    project = admin_client.get(url(demo.id, suffix="/detail")).json()["quota_set"]
    assert project["instances"]["in_use"] == 2
    # back to the project's limits: the user boots again
    assert admin_client.delete(url(demo.id, user_id)).status_code == 202
    assert admin_client.get(url(demo.id, user_id)).json()["quota_set"]["instances"] == 10
    boot(member_client, image, "again")


def test_user_key_pair_quota(admin_client, member_client, demo, user_id):
    assert admin_client.put(url(demo.id, user_id), {"quota_set": {"key_pairs": 0}}, format="json").status_code == 200
    resp = member_client.post(f"{BASE}/os-keypairs", {"keypair": {"name": "k"}}, format="json")
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["message"] == "Quota exceeded, too many key pairs."


def test_user_quota_rules(admin_client, member_client, demo, user_id):
    # members cannot set anyone's quotas; a bad user_id or key is a 400, never a 500
    assert member_client.put(url(demo.id, user_id), {"quota_set": {"ram": 1}}, format="json").status_code == 403
    error(admin_client.get(url(demo.id, "")), 400)
    error(admin_client.put(url(demo.id, user_id), {"quota_set": {"bogus": 1}}, format="json"), 400)
    error(admin_client.put(url(demo.id, user_id), {"quota_set": {"ram": "x"}}, format="json"), 400)
    assert admin_client.delete(url("nope", user_id)).status_code == 404
    # a member reads its own limits within its project
    assert member_client.get(url(demo.id, user_id)).json()["quota_set"]["ram"] == 51200
