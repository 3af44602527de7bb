"""Today's clients against the compute API: the latest openstacksdk (which negotiates the highest
microversion the cloud announces) and the latest python-openstackclient. No worker runs: the
tasks the API would queue are recorded, so servers stay in BUILD."""
import io

import pytest

from compute.api.base import MAX_VERSION
from compute.models import Instance, KeyPair
from compute.services.flavors import ensure_default_flavors
from images.models import Image
from images.services.registry import register_image

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MEMBER = dict(user="demo-user", project="demo")


@pytest.fixture
def cloud(admin_account, member_account, settings, tmp_path, monkeypatch):
    from cloudproj.celery import app

    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)  # no broker: tasks are dropped
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"
    ensure_default_flavors()
    return register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)


def test_latest_sdk_servers_flavors_keypairs(latest_sdk, cloud, member_account):
    out = latest_sdk(f"""
        flavors = sorted(f.name for f in conn.compute.flavors())
        made = conn.compute.create_keypair(name="sdk-key")
        keys = [k.name for k in conn.compute.keypairs()]
        server = conn.compute.create_server(name="sdk-vm", image_id="{cloud.id}", flavor_id="1",
                                            networks="auto")  # required from 2.37
        listed = [(s.id, s.name, s.status) for s in conn.compute.servers()]
        shown = conn.compute.get_server(server.id)
        version = conn.compute.get_endpoint_data().max_microversion
        conn.compute.delete_keypair("sdk-key")
        print(json.dumps({{
            "flavors": flavors, "key": [made.name, made.type, bool(made.private_key), made.fingerprint],
            "keys": keys, "server": [server.id, bool(server.admin_password)], "listed": listed,
            "shown": [shown.name, shown.status, shown.flavor.original_name, shown.flavor.vcpus, shown.is_locked],
            "left": [k.name for k in conn.compute.keypairs()], "max": ".".join(map(str, version)),
        }}))
    """, **MEMBER)
    assert {"m1.tiny", "m1.small"} <= set(out["flavors"])
    name, key_type, has_private, fingerprint = out["key"]
    assert (name, key_type, has_private) == ("sdk-key", "ssh", True)
    assert out["keys"] == ["sdk-key"] and out["left"] == []
    server_id, has_password = out["server"]
    assert has_password  # adminPass in the create response
    assert out["listed"] == [[server_id, "sdk-vm", "BUILD"]]
    # the server's own flavor (2.47) and `locked` (2.9), read at the negotiated version
    assert out["shown"] == ["sdk-vm", "BUILD", "m1.tiny", 1, False]
    assert out["max"] == MAX_VERSION
    assert Instance.objects.get(uuid=server_id).user_id == member_account[0].id
    assert fingerprint and not KeyPair.objects.exists()


def test_latest_osc_server_flavor_keypair(latest_osc, cloud, tmp_path):
    osc = latest_osc
    flavors = {f["Name"] for f in osc("flavor", "list")}
    assert {"m1.tiny", "m1.small"} <= flavors
    made = osc("keypair", "create", "osc-key", raw=True, **MEMBER)
    assert made.returncode == 0, made.stderr
    assert "PRIVATE KEY-----" in made.stdout
    listed = osc("keypair", "list", **MEMBER)
    assert [k["Name"] for k in listed] == ["osc-key"]
    assert listed[0].get("Type", "ssh") == "ssh"

    created = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "osc-vm", **MEMBER)
    assert created["name"] == "osc-vm" and created["status"] == "BUILD"
    assert created.get("adminPass")
    rows = osc("server", "list", **MEMBER)
    assert [(r["ID"], r["Name"], r["Status"]) for r in rows] == [(created["id"], "osc-vm", "BUILD")]
    shown = osc("server", "show", "osc-vm", **MEMBER)
    assert shown["id"] == created["id"] and shown["status"] == "BUILD"
    # the server's own flavor from 2.47
    assert shown["flavor"]["original_name"] == "m1.tiny" and "tiny-img" in shown["image"]

    osc("keypair", "delete", "osc-key", raw=True, **MEMBER)
    assert osc("keypair", "list", **MEMBER) == []
