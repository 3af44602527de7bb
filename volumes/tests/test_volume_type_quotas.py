"""Per-volume-type quotas (Cinder's `volumes_<type>`, `gigabytes_<type>`, `snapshots_<type>`) as
clients see them: in os-quota-sets and os-quota-class-sets for every type, and held to by the
volumes and snapshots of that type (create, extend, snapshot, retype, delete gives back).
The volume host's part runs by calling volumes.services.host, as the agent's task would."""
import pytest

from cloudproj.testing.volumes import available, url
from volumes.models import Snapshot, Volume
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(admin_client, admin_project):
    resp = admin_client.post(url(admin_project, "types"), {"volume_type": {"name": "gold"}}, format="json")
    assert resp.status_code == 200, resp.content
    return "gold"


def quota_set(client, project, target, usage=False):
    resp = client.get(url(project, f"os-quota-sets/{target.id}?usage={usage}"))
    assert resp.status_code == 200, resp.content
    return resp.json()["quota_set"]


def put_quota(admin_client, admin_project, target, **values):
    return admin_client.put(url(admin_project, f"os-quota-sets/{target.id}"), {"quota_set": values}, format="json")


def test_type_keys_are_shown_for_every_type(member_client, demo, gold):
    body = quota_set(member_client, demo, demo)
    for key in ("volumes_gold", "gigabytes_gold", "snapshots_gold", "volumes___DEFAULT__"):
        assert body[key] == -1, key
    assert body["volumes"] == 10  # Cinder's own keys are there as before


def test_tempest_update_default_quota_class(admin_client, admin_project, demo, gold):
    """tempest's test_update_default_quota: the default class takes per-type keys, and every
    project's defaults show them."""
    update = {"volumes": 11, "gigabytes": 1001, "volumes_gold": 3, "gigabytes_gold": 7, "snapshots_gold": 2}
    resp = admin_client.put(url(admin_project, "os-quota-class-sets/default"), {"quota_class_set": update},
                            format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["quota_class_set"].items() >= update.items()
    shown = admin_client.get(url(admin_project, "os-quota-class-sets/default")).json()["quota_class_set"]
    assert shown.items() >= update.items()
    defaults = admin_client.get(url(admin_project, f"os-quota-sets/{demo.id}/defaults")).json()["quota_set"]
    assert defaults.items() >= update.items()
    # a key of a type that does not exist is still a 400
    resp = admin_client.put(url(admin_project, "os-quota-class-sets/default"),
                            {"quota_class_set": {"volumes_nope": 1}}, format="json")
    assert resp.status_code == 400 and "volumes_nope" in resp.json()["badRequest"]["message"]


def test_type_quotas_are_held_to(admin_client, admin_project, member_client, demo, gold, volume_host_a):
    resp = put_quota(admin_client, admin_project, demo, volumes_gold=1, gigabytes_gold=2, snapshots_gold=1)
    assert resp.status_code == 200 and resp.json()["quota_set"]["volumes_gold"] == 1
    first = available(member_client, demo, volume_type="gold")
    # a second gold volume is over volumes_gold; one of the default type is not
    resp = member_client.post(url(demo, "volumes"), {"volume": {"size": 1, "volume_type": "gold"}}, format="json")
    assert resp.status_code == 413
    assert "volumes_gold" in resp.json()["overLimit"]["message"]
    plain = available(member_client, demo)
    usage = quota_set(member_client, demo, demo, usage=True)
    assert usage["volumes_gold"] == {"limit": 1, "in_use": 1, "reserved": 0}
    assert usage["gigabytes_gold"]["in_use"] == 1 and usage["volumes___DEFAULT__"]["in_use"] == 1
    assert usage["volumes"]["in_use"] == 2
    # extending past gigabytes_gold: 413
    resp = member_client.post(url(demo, f"volumes/{first}/action"), {"os-extend": {"new_size": 3}}, format="json")
    assert resp.status_code == 413 and "gigabytes_gold" in resp.json()["overLimit"]["message"]
    # one gold snapshot fits (snapshots_gold 1, gigabytes_gold 2), a second does not
    resp = member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": first}}, format="json")
    assert resp.status_code == 202
    snapshot = Snapshot.objects.get(uuid=resp.json()["snapshot"]["id"])
    assert volume_host.create_snapshot(snapshot.id) == "available"
    resp = member_client.post(url(demo, "snapshots"), {"snapshot": {"volume_id": first}}, format="json")
    assert resp.status_code == 413
    # retyping the plain volume to gold is over volumes_gold; the type stays
    resp = member_client.post(url(demo, f"volumes/{plain}/action"), {"os-retype": {"new_type": "gold"}},
                              format="json")
    assert resp.status_code == 413
    assert member_client.get(url(demo, f"volumes/{plain}")).json()["volume"]["volume_type"] == "__DEFAULT__"
    # deleting gives the type's quota back: the snapshot, then the volume
    assert member_client.delete(url(demo, f"snapshots/{snapshot.uuid}")).status_code == 202
    volume_host.delete_snapshot(snapshot.id)
    assert member_client.delete(url(demo, f"volumes/{first}")).status_code == 202
    volume_host.delete_volume(Volume.all_objects.get(uuid=first).id)
    usage = quota_set(member_client, demo, demo, usage=True)
    assert (usage["volumes_gold"]["in_use"], usage["gigabytes_gold"]["in_use"], usage["snapshots_gold"]["in_use"]) \
        == (0, 0, 0)
    # now the retype fits, and moves the volume's share to gold
    resp = member_client.post(url(demo, f"volumes/{plain}/action"), {"os-retype": {"new_type": "gold"}},
                              format="json")
    assert resp.status_code == 202
    usage = quota_set(member_client, demo, demo, usage=True)
    assert usage["volumes_gold"]["in_use"] == 1 and usage["volumes___DEFAULT__"]["in_use"] == 0


def test_bad_type_quota_values_are_400(admin_client, admin_project, demo, gold):
    for value in ("x", -2, True):
        resp = put_quota(admin_client, admin_project, demo, volumes_gold=value)
        assert resp.status_code == 400, value
    resp = admin_client.delete(url(admin_project, f"os-quota-sets/{demo.id}"))
    assert resp.status_code == 200
