"""The default quotas through the API: /compute/v2.1/os-quota-class-sets/default (admin only),
the same store the dashboard's Default quotas page edits."""
import pytest

from identity.services import quotas

pytestmark = pytest.mark.django_db

URL = "/compute/v2.1/os-quota-class-sets/default"


def test_admin_reads_and_changes_the_defaults(admin_client, member_account):
    body = admin_client.get(URL).json()["quota_class_set"]
    assert body["id"] == "default" and body["instances"] == 10 and "volumes" not in body
    resp = admin_client.put(URL, {"quota_class_set": {"instances": 30, "cores": "-1"}}, format="json")
    assert resp.status_code == 200
    assert resp.json()["quota_class_set"]["instances"] == 30 and resp.json()["quota_class_set"]["cores"] == -1
    project = member_account[1]
    assert quotas.get_quotas(project)["instances"] == 30
    shown = admin_client.get(f"/compute/v2.1/os-quota-sets/{project.id}/defaults").json()["quota_set"]
    assert shown["instances"] == 30


@pytest.mark.parametrize("body, message", [
    ({"quota_class_set": {"instances": -2}}, "must be between -1 (unlimited)"),
    ({"quota_class_set": {"volumes": 3}}, "Bad key(s) in quota set: volumes."),
    ({"quota_class_set": {"instances": 1, "force": True}}, "Bad key(s) in quota set: force."),
    ({"quota_set": {"instances": 1}}, "only a 'quota_class_set' object"),
])
def test_bad_defaults_are_400_and_change_nothing(admin_client, body, message):
    resp = admin_client.put(URL, body, format="json")
    assert resp.status_code == 400 and message in resp.json()["badRequest"]["message"]
    assert quotas.get_defaults()["instances"] == 10


def test_members_may_not_and_other_classes_do_not_exist(admin_client, member_client):
    assert member_client.get(URL).status_code == 403
    assert member_client.put(URL, {"quota_class_set": {"instances": 99}}, format="json").status_code == 403
    assert admin_client.get("/compute/v2.1/os-quota-class-sets/gold").status_code == 404
    assert quotas.get_defaults()["instances"] == 10
