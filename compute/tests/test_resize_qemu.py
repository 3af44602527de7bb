"""Resize with a real guest and the latest `openstack` client: a QEMU (TCG) guest on one host
(ALLOW_RESIZE_TO_SAME_HOST) is resized to a bigger flavor and still answers with the note it
wrote on its disk before, is reverted (old memory, old disk, same note), resized again and
confirmed (the old files and claim gone); then rescued, where the rescue system reads the
note from the server's own disk (attached second), and unrescued; then shelved (offloaded:
no domain, files or claim left) and unshelved with its note intact. Capacity, files and the domain are checked as an
operator would: libvirt's view of the domain, the instance directory, the host's usage."""
import subprocess
import urllib.request

import pytest

from cloudproj.testing.real_guest import http, real_guest_cloud
from compute.models import Claim, ComputeNode, Instance, InstanceResize
from images.testimage import builder

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "cptrsz-host"
BRIDGE = "cptrsz0"
CIDR = "10.245.0.0/24"
BOOT_TIMEOUT = 150
TOKEN = "resize-note-245"


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, latest_osc):
    with real_guest_cloud(settings, tmp_path, latest_osc, label="rsznet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=0x245000, cloud_env={"ALLOW_RESIZE_TO_SAME_HOST": "true"}) as env:
        from secgroups.services import groups as secgroup_groups
        from secgroups.services import rules as secgroup_rules

        secgroup_rules.create_rule(secgroup_groups.ensure_default(admin_account[1].id), ip_protocol="tcp",
                                   from_port=80, to_port=80, cidr="0.0.0.0/0")
        yield env
    from metadata.linux import iptables as metadata_iptables

    metadata_iptables.remove([BRIDGE])


def get(address: str, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return None


def _domain_memory_mb(name: str) -> int:
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        return conn.lookupByName(name).maxMemory() // 1024
    finally:
        conn.close()


def _virtual_gb(disk) -> float:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)], capture_output=True, text=True,
                         check=True).stdout
    import json

    return json.loads(out)["virtual-size"] / 1024**3


def test_resize_revert_confirm_rescue_and_shelve_a_real_guest(real_cloud, latest_osc):
    osc, cloud = latest_osc, real_cloud.cloud
    osc("flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1", "rsz.small")
    osc("flavor", "create", "--ram", "384", "--disk", "2", "--vcpus", "2", "rsz.big")
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "rsz.small", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    shown = osc("server", "show", "vm1")
    (address,) = shown["addresses"]["rsznet"]
    name = shown["OS-EXT-SRV-ATTR:instance_name"]
    instance_dir = cloud.state_path(HOST) / "instances" / name
    aside = instance_dir.with_name(name + "_resize")

    def console_has(text):
        return text in osc("console", "log", "show", "vm1", raw=True).stdout

    def answers_with_the_note(what):
        cloud.wait(lambda: http(address), BOOT_TIMEOUT, f"HTTP from the guest {what}")
        assert get(address, "/cgi-bin/note").strip() == f"NOTE {TOKEN}", what

    cloud.wait(lambda: console_has(builder.MARKER_UP), BOOT_TIMEOUT, "the guest's UP marker")
    assert f"NOTE-WRITTEN {TOKEN}" in cloud.wait(lambda: get(address, f"/cgi-bin/note?write={TOKEN}"), 30,
                                                   "the note CGI")
    assert _domain_memory_mb(name) == 256 and _virtual_gb(instance_dir / "disk") == 1

    # resize up: VERIFY_RESIZE on the new flavor, the same guest (its note) answering
    osc("server", "resize", "--flavor", "rsz.big", "--wait", "vm1", raw=True)
    shown = osc("server", "show", "vm1")
    assert shown["status"] == "VERIFY_RESIZE", cloud.logs()
    assert "rsz.big" in str(shown["flavor"]) and shown["OS-EXT-SRV-ATTR:host"] == HOST
    assert shown["addresses"]["rsznet"] == [address]
    assert _domain_memory_mb(name) == 384 and _virtual_gb(instance_dir / "disk") == 2
    assert aside.is_dir()
    answers_with_the_note("after the resize")
    node = ComputeNode.objects.get(host=HOST)
    assert node.memory_mb_used == 256 + 384  # both flavors held until confirm or revert

    # revert: back on the old flavor and the old disk
    osc("server", "resize", "revert", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 120, "ACTIVE after the revert")
    assert "rsz.small" in str(osc("server", "show", "vm1")["flavor"])
    assert _domain_memory_mb(name) == 256 and _virtual_gb(instance_dir / "disk") == 1
    assert not aside.exists()
    answers_with_the_note("after the revert")
    node.refresh_from_db()
    assert node.memory_mb_used == 256

    # resize again and confirm: the old files and the old claim go
    osc("server", "resize", "--flavor", "rsz.big", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "VERIFY_RESIZE", cloud.logs()
    osc("server", "resize", "confirm", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 60, "ACTIVE after the confirm")
    assert "rsz.big" in str(osc("server", "show", "vm1")["flavor"])
    assert not aside.exists() and _domain_memory_mb(name) == 384
    answers_with_the_note("after the confirm")
    instance = Instance.objects.get(display_name="vm1")
    claim = Claim.objects.get(instance=instance)
    assert (claim.memory_mb, claim.vcpus, claim.disk_gb) == (384, 2, 2)
    node.refresh_from_db()
    assert (node.memory_mb_used, node.vcpus_used, node.num_instances) == (384, 2, 1)
    assert not InstanceResize.objects.exists()
    actions = [e["Action"] for e in osc("server", "event", "list", "vm1")]
    assert actions.count("resize") == 2 and "revertResize" in actions and "confirmResize" in actions

    # rescue: a fresh system from the image on vda, the server's own disk on vdb
    rescued = osc("server", "rescue", "vm1", raw=True)
    assert rescued.returncode == 0, rescued.stderr
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "RESCUE", 120, "RESCUE")
    cloud.wait(lambda: http(address), BOOT_TIMEOUT, "HTTP from the rescue system")
    assert get(address, "/cgi-bin/note").strip() == "NOTE none"  # the rescue disk is not the server's
    assert get(address, "/cgi-bin/note?dev=vdb").strip() == f"NOTE {TOKEN}"  # its own disk, read
    assert (instance_dir / "disk.rescue").is_file()

    osc("server", "unrescue", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 120, "ACTIVE after unrescue")
    answers_with_the_note("after unrescue")
    assert not (instance_dir / "disk.rescue").exists()
    actions = [e["Action"] for e in osc("server", "event", "list", "vm1")]
    assert "rescue" in actions and "unrescue" in actions

    # shelve: the disk into an image, the host let go; unshelve: back from that image
    osc("server", "shelve", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "SHELVED_OFFLOADED", 180, "SHELVED_OFFLOADED")
    assert not instance_dir.exists() and not Claim.objects.filter(instance=instance).exists()
    assert osc("server", "show", "vm1")["addresses"]["rsznet"] == [address]  # the address stays the server's
    osc("server", "unshelve", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 180, "ACTIVE after unshelve")
    answers_with_the_note("after unshelve")
    assert "vm1-shelved" not in {row["Name"] for row in osc("image", "list")}
    actions = [e["Action"] for e in osc("server", "event", "list", "vm1")]
    assert "shelve" in actions and "unshelve" in actions
