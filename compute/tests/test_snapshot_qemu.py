"""End to end with real guests and the real client: a snapshot of a running server boots
with the first server's changes; a server boots from a qcow2 uploaded with
`openstack image create --file`, and keeps running (and hard-reboots) after its image is
deleted."""
import subprocess
import urllib.request

import pytest

from images.drivers import store
from cloudproj.testing.real_guest import http, real_guest_cloud
from images.testimage import builder

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "cptimg-host"
BRIDGE = "cptimg0"
CIDR = "10.244.0.0/24"
BOOT_TIMEOUT = 150
TOKEN = "snap-note-244"


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    with real_guest_cloud(settings, tmp_path, osc, label="imgnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=0x244000, servers=("vm1", "vm2", "vm3")) as env:
        from secgroups.services import groups as secgroup_groups
        from secgroups.services import rules as secgroup_rules

        secgroup_rules.create_rule(secgroup_groups.ensure_default(admin_account[1].id), ip_protocol="tcp",
                                   from_port=80, to_port=80, cidr="0.0.0.0/0")
        yield env
    from metadata.linux import iptables as metadata_iptables

    metadata_iptables.remove([BRIDGE])  # the metadata DNAT of the test's bridge goes with it


def get(address: str, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as response:
            return response.read().decode(errors="replace")
    except OSError:
        return None


def boot(osc, cloud, name: str, image: str) -> str:
    server = osc("server", "create", "--image", image, "--flavor", "m1.tiny", "--wait", name)
    assert server["status"] == "ACTIVE", cloud.logs()
    (address,) = osc("server", "show", name)["addresses"]["imgnet"]
    return address


def console_has(osc, name: str, text: str) -> bool:
    return text in osc("console", "log", "show", name, raw=True).stdout


def test_snapshot_boots_with_the_changes_and_an_uploaded_qcow2_boots(real_cloud, osc, tmp_path):
    cloud = real_cloud.cloud
    address = boot(osc, cloud, "vm1", "cloudproj-test")
    cloud.wait(lambda: console_has(osc, "vm1", builder.MARKER_UP), BOOT_TIMEOUT, "vm1 up")
    assert f"NOTE-WRITTEN {TOKEN}" in cloud.wait(lambda: get(address, f"/cgi-bin/note?write={TOKEN}"), 30,
                                                   "the note CGI")

    snap = osc("server", "image", "create", "vm1", "--name", "snap", "--wait")
    assert snap["status"] == "active", cloud.logs()
    shown = osc("image", "show", "snap")
    props = shown["properties"]
    assert shown["visibility"] == "private" and shown["disk_format"] == "qcow2"
    assert props["image_type"] == "snapshot" and props["instance_uuid"] == osc("server", "show", "vm1")["id"]
    assert props["base_image_ref"] == str(real_cloud.images["root"].id)
    # the first server carries on after its snapshot (it was paused only for the copy)
    assert osc("server", "show", "vm1")["status"] == "ACTIVE"
    assert cloud.wait(lambda: http(address), 30, "vm1 HTTP after the snapshot")
    events = {e["Action"] for e in osc("server", "event", "list", "vm1")}
    assert "createImage" in events
    osc("server", "delete", "--wait", "vm1", raw=True)

    boot(osc, cloud, "vm2", "snap")
    cloud.wait(lambda: console_has(osc, "vm2", f"CLOUDPROJ-NOTE {TOKEN}"), BOOT_TIMEOUT,
               "the first server's note on the snapshot's console")
    osc("server", "delete", "--wait", "vm2", raw=True)

    # the test image's root converted to qcow2, uploaded by the client, booted
    root = real_cloud.images["root"]
    disk = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(store.location(root.id)), str(disk)],
                   check=True)
    uploaded = osc("image", "create", "--file", str(disk), "--disk-format", "qcow2", "--container-format", "bare",
                   "--property", f"kernel_id={root.properties['kernel_id']}",
                   "--property", f"ramdisk_id={root.properties['ramdisk_id']}",
                   "--property", f"os_command_line={root.properties['os_command_line']}", "uploaded")
    assert uploaded["status"] == "active" and uploaded["size"] == disk.stat().st_size
    address = boot(osc, cloud, "vm3", "uploaded")
    cloud.wait(lambda: console_has(osc, "vm3", f"{builder.MARKER_UP} hostname=vm3"), BOOT_TIMEOUT, "vm3 up")

    # deleting the image does not break the server running from it (its host keeps the base)
    osc("image", "delete", "uploaded", raw=True)
    assert cloud.wait(lambda: http(address), 30, "vm3 HTTP after its image was deleted")
    osc("server", "reboot", "--hard", "--wait", "vm3", raw=True)
    assert osc("server", "show", "vm3")["status"] == "ACTIVE"
    assert cloud.wait(lambda: http(address), BOOT_TIMEOUT, "vm3 HTTP after a hard reboot without its image")
