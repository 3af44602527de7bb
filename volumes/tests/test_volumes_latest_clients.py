"""Block Storage through today's clients: the latest openstacksdk (4.22) and python-openstackclient
(10.5), unchanged, with a real volume host agent (file driver) doing the storage work."""
import pytest

from volumes.models import Volume

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_latest_sdk_volumes_types_snapshots(latest_sdk, volume_cloud, admin_account):
    out = latest_sdk("""
        bs = conn.block_storage
        vtype = bs.create_type(name="fast", extra_specs={"volume_backend_name": "file"})
        vol = bs.create_volume(size=1, name="sdk-vol", volume_type="fast")
        vol = bs.wait_for_status(vol, status="available", wait=60, interval=0.5)
        bs.extend_volume(vol, 2)
        vol = bs.wait_for_status(bs.get_volume(vol.id), status="available", wait=60, interval=0.5)
        bs.set_volume_bootable_status(vol, True)
        snap = bs.create_snapshot(volume_id=vol.id, name="sdk-snap")
        snap = bs.wait_for_status(snap, status="available", wait=60, interval=0.5)
        clone = bs.create_volume(source_volume_id=vol.id, name="sdk-clone")
        clone = bs.wait_for_status(clone, status="available", wait=60, interval=0.5)
        shown = bs.get_volume(vol.id)
        print(json.dumps({
            "volumes": sorted(v.name for v in bs.volumes()),
            "types": sorted(t.name for t in bs.types()),
            "size": shown.size, "type": shown.volume_type, "bootable": shown.is_bootable,
            "snapshots": [s.name for s in bs.snapshots()],
            "clone": [clone.source_volume_id == vol.id, clone.size, clone.volume_type],
            "default": bs.get_type("default").name if hasattr(bs, "get_type") else None,
        }))
        bs.delete_volume(clone)
        bs.delete_snapshot(snap)
        bs.wait_for_delete(snap, wait=60, interval=0.5)
        bs.delete_volume(vol)
        bs.wait_for_delete(vol, wait=60, interval=0.5)
        bs.delete_type(vtype)
    """)
    assert out["volumes"] == ["sdk-clone", "sdk-vol"]
    assert out["types"] == ["__DEFAULT__", "fast"]
    assert (out["size"], out["type"], out["bootable"]) == (2, "fast", True)
    assert out["snapshots"] == ["sdk-snap"] and out["clone"] == [True, 2, "fast"]
    assert out["default"] == "__DEFAULT__"
    volume_cloud.wait(lambda: Volume.objects.count() == 0, 30, "the volumes to go")


def test_latest_osc_volumes_types_snapshots(latest_osc, volume_cloud, admin_account):
    osc = latest_osc
    created = osc("volume", "type", "create", "--property", "volume_backend_name=file", "gold")
    assert created["name"] == "gold"
    assert sorted(row["Name"] for row in osc("volume", "type", "list")) == ["__DEFAULT__", "gold"]
    created = osc("volume", "create", "--size", "1", "--type", "gold", "v1")
    assert created["name"] == "v1" and created["type"] == "gold"

    def status(name, kind=("volume",)):
        return osc(*kind, "show", name)["status"]

    volume_cloud.wait(lambda: status("v1") == "available", 60, "v1 to be available", interval=0.5)
    osc("volume", "set", "--bootable", "v1", raw=True)
    shown = osc("volume", "show", "v1")
    assert shown["bootable"] in ("true", True) and shown["type"] == "gold"
    assert "os-vol-tenant-attr:tenant_id" in shown  # admins see it
    assert [(row["Name"], row["Status"]) for row in osc("volume", "list")] == [("v1", "available")]
    osc("volume", "snapshot", "create", "--volume", "v1", "s1")
    volume_cloud.wait(lambda: status("s1", ("volume", "snapshot")) == "available", 60, "s1", interval=0.5)
    assert [row["Name"] for row in osc("volume", "snapshot", "list")] == ["s1"]
    osc("volume", "create", "--snapshot", "s1", "v2")
    volume_cloud.wait(lambda: status("v2") == "available", 60, "v2 to be available", interval=0.5)
    assert osc("volume", "show", "v2")["bootable"] in ("true", True)
    osc("volume", "delete", "v2", raw=True)
    osc("volume", "snapshot", "delete", "s1", raw=True)
    volume_cloud.wait(lambda: osc("volume", "snapshot", "list") == [], 60, "s1 to go", interval=0.5)
    osc("volume", "delete", "v1", raw=True)
    volume_cloud.wait(lambda: osc("volume", "list") == [], 60, "the volumes to go", interval=0.5)
    osc("volume", "type", "delete", "gold", raw=True)
    assert [row["Name"] for row in osc("volume", "type", "list")] == ["__DEFAULT__"]


def test_latest_osc_qos_pools_services_hosts(latest_osc, volume_cloud, admin_account):
    """Today's `openstack volume qos|backend pool|service|host` against the admin resources."""
    osc = latest_osc
    osc("volume", "type", "create", "silver")
    created = osc("volume", "qos", "create", "--consumer", "front-end", "--property", "read_iops_sec=2000", "q1")
    assert created["name"] == "q1" and created["consumer"] == "front-end"
    osc("volume", "qos", "associate", "q1", "silver", raw=True)
    osc("volume", "qos", "set", "--property", "write_iops_sec=500", "q1", raw=True)
    osc("volume", "qos", "unset", "--property", "read_iops_sec", "q1", raw=True)
    shown = osc("volume", "qos", "show", "q1")
    assert "silver" in str(shown["associations"]) and "write_iops_sec" in str(shown["properties"])
    assert "read_iops_sec" not in str(shown["properties"])
    assert [row["Name"] for row in osc("volume", "qos", "list")] == ["q1"]
    osc("volume", "qos", "disassociate", "--all", "q1", raw=True)
    osc("volume", "qos", "delete", "q1", raw=True)
    assert osc("volume", "qos", "list") == []

    pools = osc("volume", "backend", "pool", "list", "--long")
    assert [p["Name"] for p in pools] == ["vol-host@file#file"]
    assert pools[0]["Capabilities"]["total_capacity_gb"] == 50  # the agent's report (VOLUME_FILE_CAPACITY_GB)

    osc("volume", "service", "set", "--disable", "--disable-reason", "maint", "vol-host", "cinder-volume", raw=True)
    (service,) = osc("volume", "service", "list", "--long")
    assert service["Status"] == "disabled" and service["Disabled Reason"] == "maint"
    osc("volume", "service", "set", "--enable", "vol-host", "cinder-volume", raw=True)
    assert osc("volume", "service", "list")[0]["Status"] == "enabled"
    osc("volume", "host", "set", "--disable", "vol-host", raw=True)  # freeze: nothing to freeze here
    osc("volume", "host", "set", "--enable", "vol-host", raw=True)
