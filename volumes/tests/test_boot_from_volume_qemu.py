"""Boot from volume end to end with real QEMU guests and today's `openstack` client: a server
booted from a new volume made of the test image (`--boot-from-volume`), and a volume that
outlives its server: a note written by the first guest onto its root filesystem is read back
by a second server booted from the same volume (`--volume`). The root disk is the volume's
file (vda in the domain); no local disk is made.

The guest side is the test image's /cgi-bin/note (a note on the root filesystem)."""
import subprocess
import uuid

import pytest

from cloudproj.testing.real_guest import real_guest_cloud
from volumes.models import Volume, VolumeAttachment, VolumeHost

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "bfv-qemu"
BRIDGE = "cptbfv0"
CIDR = "10.237.0.0/24"
INSTANCE_IDS = 0x237000
BOOT_TIMEOUT = 150


def note(address: str, query: str = "", timeout: float = 10) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}/cgi-bin/note?{query}", timeout=timeout) as response:
            return response.read().decode(errors="replace").strip()
    except OSError:
        return ""


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, latest_osc):
    from secgroups.services import groups as secgroup_groups
    from secgroups.services import rules as secgroup_rules

    agent_env = {"VOLUME_DRIVER": "file", "VOLUME_FILE_CAPACITY_GB": 20, "VOLUME_CLEAR_SIZE_MB": 1}
    with real_guest_cloud(settings, tmp_path, latest_osc, label="bfvnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=INSTANCE_IDS, servers=("vm1", "vm2", "vm3"),
                          agent_env=agent_env) as env:
        env.cloud.wait(lambda: VolumeHost.objects.filter(host=HOST).exists(), 30, "the volume host's report")
        secgroup_rules.create_rule(secgroup_groups.ensure_default(admin_account[1].id), ip_protocol="tcp",
                                   from_port=80, to_port=80, cidr="0.0.0.0/0")
        yield env.cloud


def _address(osc, name):
    (address,) = osc("server", "show", name)["addresses"]["bfvnet"]
    return address


def _root_source(server_id: str) -> str:
    xml = subprocess.run(["virsh", "-c", "qemu:///system", "dumpxml", server_id], capture_output=True, text=True,
                         check=True).stdout
    import xml.etree.ElementTree as ET

    for disk in ET.fromstring(xml).findall("./devices/disk"):
        if disk.find("target").get("dev") == "vda":
            return disk.find("source").get("file")
    raise AssertionError(f"no vda in {xml}")


def test_boot_from_volume_and_the_root_disk_outlives_its_server(real_cloud, latest_osc):
    cloud, osc = real_cloud, latest_osc

    # a new volume made of the image
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--boot-from-volume", "1",
                 "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    shown = osc("server", "show", "vm1")
    assert shown["image"] in ("N/A (booted from volume)", "")
    (volume,) = Volume.objects.filter(attachment__instance_uuid=shown["id"])
    assert str(volume.uuid) in str(shown["volumes_attached"])
    assert osc("volume", "show", str(volume.uuid))["status"] == "in-use"
    volume_file = cloud.state_path(HOST) / "volumes" / f"{volume.storage_name}.raw"
    assert _root_source(shown["id"]) == str(volume_file)
    address = _address(osc, "vm1")
    cloud.wait(lambda: note(address, timeout=3).startswith("NOTE"), BOOT_TIMEOUT, "HTTP from vm1")
    assert "boots from it" in osc("server", "remove", "volume", "vm1", str(volume.uuid), check=False,
                                  raw=True).stderr
    osc("server", "delete", "--wait", "vm1", raw=True)
    cloud.wait(lambda: not VolumeAttachment.objects.exists(), 30, "the root volume to be released")
    # --boot-from-volume asks to keep the volume unless told otherwise: it is available again
    volume.refresh_from_db()
    assert volume.status == "available", cloud.logs()
    osc("volume", "delete", str(volume.uuid), raw=True)

    # a volume of its own: a note written by the first server is read by the second
    osc("volume", "create", "--image", "cloudproj-test", "--size", "1", "--bootable", "rootvol")
    cloud.wait(lambda: osc("volume", "show", "rootvol")["status"] == "available", 60, "rootvol to be written")
    server = osc("server", "create", "--volume", "rootvol", "--flavor", "m1.tiny", "--wait", "vm2")
    assert server["status"] == "ACTIVE", cloud.logs()
    address = _address(osc, "vm2")
    cloud.wait(lambda: note(address, timeout=3).startswith("NOTE"), BOOT_TIMEOUT, "HTTP from vm2")
    token = f"bfv-{uuid.uuid4().hex[:12]}"
    assert note(address, f"write={token}") == f"NOTE-WRITTEN {token}"
    osc("server", "delete", "--wait", "vm2", raw=True)
    cloud.wait(lambda: osc("volume", "show", "rootvol")["status"] == "available", 30, "rootvol to be free")

    server = osc("server", "create", "--volume", "rootvol", "--flavor", "m1.tiny", "--wait", "vm3")
    assert server["status"] == "ACTIVE", cloud.logs()
    address = _address(osc, "vm3")
    cloud.wait(lambda: note(address, timeout=3).startswith("NOTE"), BOOT_TIMEOUT, "HTTP from vm3")
    assert note(address) == f"NOTE {token}"
    console = osc("console", "log", "show", "vm3", raw=True).stdout
    assert f"CLOUDPROJ-NOTE {token}" in console
