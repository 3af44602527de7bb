"""End to end with real guests: a volume made by the file driver, attached through the real
`openstack` client to a QEMU guest (the test image), written to inside the guest, detached,
attached to a second guest that reads the marker back; deleting a server detaches its
volume (which keeps its data); deleting the volume frees the quota and the file.

The guest side is the test image's /cgi-bin/disk (list, write, read the extra disks).
"""
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from identity.services import quotas
from cloudproj.testing.real_guest import real_guest_cloud
from volumes.models import Volume, VolumeAttachment, VolumeHost

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "vol-qemu"
BRIDGE = "cptvol0"
CIDR = "10.242.0.0/24"
INSTANCE_IDS = 0x242000
BOOT_TIMEOUT = 150


def guest(address: str, query: str, timeout: float = 10) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}/cgi-bin/disk?{query}", timeout=timeout) as response:
            return response.read().decode(errors="replace").strip()
    except OSError:
        return ""


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc):
    agent_env = {"VOLUME_DRIVER": "file", "VOLUME_FILE_CAPACITY_GB": 20, "VOLUME_CLEAR_SIZE_MB": 1}
    with real_guest_cloud(settings, tmp_path, osc, label="volnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=INSTANCE_IDS, servers=("vm1", "vm2"), agent_env=agent_env) as env:
        env.cloud.wait(lambda: VolumeHost.objects.filter(host=HOST).exists(), 30, "the volume host's report")
        yield env.cloud


def boot(cloud, osc, name: str) -> str:
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", name)
    assert server["status"] == "ACTIVE", cloud.logs()
    (address,) = osc("server", "show", name)["addresses"]["volnet"]
    cloud.wait(lambda: guest(address, "list", 3).startswith("DISK-LIST"), BOOT_TIMEOUT, f"HTTP from {name}")
    return address


def lose_disk(server_id: str, path: str) -> None:
    import libvirt

    from compute.virt import volume_attach

    conn = libvirt.open("qemu:///system")
    try:
        volume_attach.detach(conn.lookupByUUIDString(server_id), libvirt, path, timeout=30)
    finally:
        conn.close()


def volume_status(osc, name: str) -> str:
    return osc("volume", "show", name)["status"]


def test_volume_moves_its_data_between_guests(real_cloud, osc, admin_account):
    from secgroups.services import groups as secgroup_groups
    from secgroups.services import rules as secgroup_rules

    cloud, project = real_cloud, admin_account[1]
    secgroup_rules.create_rule(secgroup_groups.ensure_default(project.id), ip_protocol="tcp",
                               from_port=80, to_port=80, cidr="0.0.0.0/0")
    vm1 = boot(cloud, osc, "vm1")
    vm2 = boot(cloud, osc, "vm2")
    assert guest(vm1, "list").split()[1:] == ["vda"]

    osc("volume", "create", "--size", "1", "v1")
    cloud.wait(lambda: volume_status(osc, "v1") == "available", 30, "v1 to be available")
    volume = Volume.objects.get(name="v1")
    path = cloud.state_path(HOST) / "volumes" / f"{volume.storage_name}.raw"
    assert path.exists()

    # attach to vm1: in-use, the guest sees vdb; a marker goes onto it
    osc("server", "add", "volume", "vm1", "v1", raw=True)
    shown = osc("volume", "show", "v1")
    assert shown["status"] == "in-use", cloud.logs()
    (attachment,) = shown["attachments"]
    assert attachment["server_id"] == osc("server", "show", "vm1")["id"] and attachment["device"] == "/dev/vdb"
    assert str(volume.uuid) in str(osc("server", "show", "vm1")["volumes_attached"])
    cloud.wait(lambda: "vdb" in guest(vm1, "list").split(), 30, "vdb to appear in vm1")
    assert guest(vm1, "size&dev=vdb") == f"DISK-SIZE {1024 ** 3}"
    token = f"tok-{uuid.uuid4().hex[:12]}"
    assert guest(vm1, f"write={token}&dev=vdb") == f"DISK-WRITTEN {token}"
    assert guest(vm1, "read&dev=vdb") == f"DISK-READ CLOUDPROJ-DISK {token}"

    # refusals: attaching an in-use volume; removing a volume a server does not have
    refused = osc("server", "add", "volume", "vm2", "v1", check=False, raw=True)
    assert refused.returncode != 0 and "available" in refused.stderr
    refused = osc("server", "remove", "volume", "vm2", "v1", check=False, raw=True)
    assert refused.returncode != 0

    # detach from vm1: available, gone from the guest
    osc("server", "remove", "volume", "vm1", "v1", raw=True)
    assert volume_status(osc, "v1") == "available"
    assert osc("volume", "show", "v1")["attachments"] == []
    cloud.wait(lambda: "vdb" not in guest(vm1, "list").split(), 30, "vdb to leave vm1")

    # attach to vm2: the marker is there
    osc("server", "add", "volume", "vm2", "v1", raw=True)
    assert volume_status(osc, "v1") == "in-use"
    cloud.wait(lambda: "vdb" in guest(vm2, "list").split(), 30, "vdb to appear in vm2")
    assert guest(vm2, "read&dev=vdb") == f"DISK-READ CLOUDPROJ-DISK {token}"
    # a hard reboot redefines the domain from the DB: the volume stays attached
    osc("server", "reboot", "--hard", "--wait", "vm2", raw=True)
    cloud.wait(lambda: "vdb" in guest(vm2, "list", 3).split(), BOOT_TIMEOUT, "vdb in vm2 after a hard reboot")
    assert guest(vm2, "read&dev=vdb") == f"DISK-READ CLOUDPROJ-DISK {token}"
    # the disk lost behind the cloud's back (as after a host reboot): `manage.py volume reattach`
    lose_disk(osc("server", "show", "vm2")["id"], str(path))
    cloud.wait(lambda: "vdb" not in guest(vm2, "list").split(), 30, "vdb to leave vm2")
    out = StringIO()
    call_command("volume", "reattach", volume.ec2_id, stdout=out)
    assert "as /dev/vdb" in out.getvalue()
    cloud.wait(lambda: "vdb" in guest(vm2, "list").split(), 30, "vdb to come back to vm2")
    assert guest(vm2, "read&dev=vdb") == f"DISK-READ CLOUDPROJ-DISK {token}"

    # deleting the server detaches the volume, which keeps its data
    osc("server", "delete", "--wait", "vm2", raw=True)
    cloud.wait(lambda: volume_status(osc, "v1") == "available", 30, "v1 to be detached by the delete")
    assert not VolumeAttachment.objects.exists()
    assert path.read_bytes()[:40].startswith(f"CLOUDPROJ-DISK {token}".encode())

    # deleting the volume frees the storage and the quota
    assert quotas.get_usages(project)["gigabytes"]["in_use"] == 1
    osc("volume", "delete", "v1", raw=True)
    cloud.wait(lambda: not path.exists(), 30, "the volume file to go")
    cloud.wait(lambda: osc("volume", "list") == [], 30, "v1 to leave the list")
    usage = quotas.get_usages(project)
    assert (usage["volumes"]["in_use"], usage["gigabytes"]["in_use"]) == (0, 0)


def test_a_volume_detached_while_the_guest_still_boots(real_cloud, osc):
    """Tempest attaches and detaches as soon as the server is ACTIVE: the guest, still booting,
    loses the first unplug request; the host asks again until the guest lets go."""
    cloud = real_cloud
    osc("volume", "create", "--size", "1", "early")
    cloud.wait(lambda: volume_status(osc, "early") == "available", 30, "the volume to be available")
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    osc("server", "add", "volume", "vm1", "early", raw=True)
    assert volume_status(osc, "early") == "in-use"
    osc("server", "remove", "volume", "vm1", "early", raw=True)  # answers once the guest released it
    assert volume_status(osc, "early") == "available", cloud.logs()
    assert osc("volume", "show", "early")["attachments"] == []
    assert not VolumeAttachment.objects.exists()


STORE = "vol-store"
TGT = {"ISCSI_IP_ADDRESS": "127.0.0.1", "ISCSI_PORT": 3342, "TGT_CONTROL_PORT": 242}


@pytest.fixture
def two_hosts(settings, tmp_path, admin_account, osc):
    """The QEMU host `vol-qemu` and a storage host `vol-store` (zone `storage`, simulated
    hypervisor) whose volumes reach the guest over iSCSI from its own tgtd (127.0.0.1:3342,
    control port 242), stopped at the end."""
    import shutil

    from volumes.drivers.iscsi import TgtExport

    missing = [tool for tool in ("tgtd", "tgtadm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"cross-host volumes need tgt ({', '.join(missing)} missing: apt-get install tgt)")
    if not any(Path(d, "block-iscsi.so").exists() for d in ("/usr/lib/x86_64-linux-gnu/qemu", "/usr/lib/qemu")):
        pytest.skip("QEMU has no iSCSI block driver (block-iscsi.so: apt-get install qemu-block-extra)")
    exporter = TgtExport("iqn.2010-10.org.openstack:", TGT["ISCSI_IP_ADDRESS"], TGT["ISCSI_PORT"],
                         TGT["TGT_CONTROL_PORT"])
    agent_env = {"VOLUME_DRIVER": "file", "VOLUME_FILE_CAPACITY_GB": 1}
    try:
        with real_guest_cloud(settings, tmp_path, osc, label="volnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                              instance_id_start=INSTANCE_IDS, servers=("vm1",), agent_env=agent_env) as env:
            env.cloud.start_agent(STORE, VOLUME_DRIVER="file", VOLUME_FILE_CAPACITY_GB=20,
                                  NODE_AVAILABILITY_ZONE="storage", **TGT)
            env.cloud.wait_up([HOST, STORE])
            env.cloud.wait(lambda: VolumeHost.objects.filter(host__in=[HOST, STORE]).count() == 2, 30,
                           "both volume hosts' reports")
            yield env.cloud, exporter
    finally:
        exporter.stop_daemon()


def test_volume_of_another_host_over_iscsi(two_hosts, osc, admin_account):
    from secgroups.services import groups as secgroup_groups
    from secgroups.services import rules as secgroup_rules

    cloud, exporter = two_hosts
    secgroup_rules.create_rule(secgroup_groups.ensure_default(admin_account[1].id), ip_protocol="tcp",
                               from_port=80, to_port=80, cidr="0.0.0.0/0")
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--availability-zone",
                 "nova", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    assert osc("server", "show", "vm1")["OS-EXT-SRV-ATTR:host"] == HOST
    (vm1,) = osc("server", "show", "vm1")["addresses"]["volnet"]
    cloud.wait(lambda: guest(vm1, "list", 3).startswith("DISK-LIST"), BOOT_TIMEOUT, "HTTP from vm1")

    osc("volume", "create", "--size", "1", "--availability-zone", "storage", "remote")
    cloud.wait(lambda: volume_status(osc, "remote") == "available", 30, "the volume to be available")
    volume = Volume.objects.get(name="remote")
    assert volume.host == STORE
    path = cloud.state_path(STORE) / "volumes" / f"{volume.storage_name}.raw"
    iqn = f"iqn.2010-10.org.openstack:{volume.storage_name}"

    osc("server", "add", "volume", "vm1", "remote", raw=True)
    assert volume_status(osc, "remote") == "in-use", cloud.logs()
    attachment = VolumeAttachment.objects.get(volume=volume)
    assert attachment.connection == {"kind": "iscsi", "path": f"{iqn}/1", "format": "raw", "host": "127.0.0.1",
                                     "port": 3342}
    assert iqn in exporter.targets()
    cloud.wait(lambda: "vdb" in guest(vm1, "list").split(), 30, "vdb to appear in vm1")
    token = f"iscsi-{uuid.uuid4().hex[:12]}"
    assert guest(vm1, f"write={token}&dev=vdb") == f"DISK-WRITTEN {token}"
    # the guest's write went over iSCSI into the file on the storage host
    assert path.read_bytes()[:60].startswith(f"CLOUDPROJ-DISK {token}".encode())

    osc("server", "remove", "volume", "vm1", "remote", raw=True)
    assert volume_status(osc, "remote") == "available"
    cloud.wait(lambda: "vdb" not in guest(vm1, "list").split(), 30, "vdb to leave vm1")
    cloud.wait(lambda: iqn not in exporter.targets(), 30, "the iSCSI target to go")

    osc("volume", "delete", "remote", raw=True)
    cloud.wait(lambda: not path.exists(), 30, "the volume file to go")
