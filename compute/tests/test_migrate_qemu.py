"""Cold migration and resize to another host with a real guest, two agents on this machine
(two hosts: own host names, instances folders and queues, the same libvirtd) and the latest
`openstack` client: a QEMU (TCG) guest writes a note on its disk, is migrated to the other
host and answers with that note from there (its disk moved through the image store), is
reverted (back on the first host, same disk), migrated again and confirmed (the first host's
files, claim and security-group chain gone, the second's there), then resized to a bigger
flavor, which takes it back to the first host. The unanswered HTTP probes of each move are
printed (a cold migration powers the guest off: it is downtime, measured, not asserted).
Last, evacuate (issue 18): refused (400) while the guest's host is up; once that host's agent
is stopped, its guest powered off (it dies with its host) and its service forced down (as an
operator does), `openstack server evacuate` rebuilds the guest from its image on the other
host, where it answers HTTP (a fresh disk: the note is gone). When the first host's agent
comes back it removes its leftovers (folder, chain) and never the new host's domain."""
import signal

import pytest

from cloudproj.testing.real_guest import Prober, get, http, real_guest_cloud
from compute.models import ComputeNode, Instance, InstanceResize, Migration
from images.testimage import builder
from secgroups.linux import iptables as secgroup_iptables

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOSTS = ("cptmig-a", "cptmig-b")
BRIDGE = "cptmgq0"
CIDR = "10.247.0.0/24"
BOOT_TIMEOUT = 150
TOKEN = "migrate-note-247"


@pytest.fixture
def two_hosts(settings, tmp_path, admin_account, latest_osc):
    with real_guest_cloud(settings, tmp_path, latest_osc, label="mignet", cidr=CIDR, bridge=BRIDGE, host=HOSTS[0],
                          extra_hosts=HOSTS[1:], instance_id_start=0x247000) as env:
        from secgroups.services import groups as secgroup_groups
        from secgroups.services import rules as secgroup_rules

        secgroup_rules.create_rule(secgroup_groups.ensure_default(admin_account[1].id), ip_protocol="tcp",
                                   from_port=80, to_port=80, cidr="0.0.0.0/0")
        yield env
    from metadata.linux import iptables as metadata_iptables

    metadata_iptables.remove([BRIDGE])


def _domain(name: str) -> tuple[bool, int]:
    """(running, memory MB) of the domain as libvirt sees it."""
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        dom = conn.lookupByName(name)
        return bool(dom.isActive()), dom.maxMemory() // 1024
    finally:
        conn.close()


def _power_off(name: str) -> None:
    """The guest dies with its host (one libvirtd serves both test hosts: stop it by hand). Its
    definition stays, as on a dead host; the evacuation's target defines that very domain
    (same uuid) as its own."""
    import libvirt

    conn = libvirt.open("qemu:///system")
    try:
        conn.lookupByName(name).destroy()
    finally:
        conn.close()


def test_cold_migrate_revert_confirm_and_resize_to_another_host(two_hosts, latest_osc, capsys):
    osc, cloud = latest_osc, two_hosts.cloud
    osc("flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1", "mig.small")
    osc("flavor", "create", "--ram", "384", "--disk", "2", "--vcpus", "1", "mig.big")
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "mig.small", "--wait", "vm1")
    assert server["status"] == "ACTIVE", cloud.logs()
    shown = osc("server", "show", "vm1")
    (address,) = shown["addresses"]["mignet"]
    name = shown["OS-EXT-SRV-ATTR:instance_name"]
    first = shown["OS-EXT-SRV-ATTR:host"]
    second = next(host for host in HOSTS if host != first)
    uuid = shown["id"]

    def folder(host):
        return cloud.state_path(host) / "instances" / name

    def answers_with_the_note(what):
        cloud.wait(lambda: http(address), BOOT_TIMEOUT, f"HTTP from the guest {what}")
        assert get(address, "/cgi-bin/note").strip() == f"NOTE {TOKEN}", what

    def chain_on(host):
        return secgroup_iptables.instance_chain(host, uuid) in secgroup_iptables.chains_of(host)

    cloud.wait(lambda: builder.MARKER_UP in osc("console", "log", "show", "vm1", raw=True).stdout, BOOT_TIMEOUT,
               "the guest's UP marker")
    assert f"NOTE-WRITTEN {TOKEN}" in cloud.wait(lambda: get(address, f"/cgi-bin/note?write={TOKEN}"), 30,
                                                   "the note CGI")
    assert chain_on(first) and not chain_on(second)
    losses = {}

    # migrate: the same guest (its note) answers from the other host
    pinger = Prober(address)
    moved = osc("server", "migrate", "--wait", "vm1", raw=True)
    assert moved.returncode == 0, moved.stderr
    shown = osc("server", "show", "vm1")
    assert shown["status"] == "VERIFY_RESIZE", cloud.logs()
    assert shown["OS-EXT-SRV-ATTR:host"] == second and shown["addresses"]["mignet"] == [address]
    assert _domain(name) == (True, 256)
    assert (folder(second) / "disk").is_file() and folder(first).with_name(name + "_resize").is_dir()
    assert not folder(first).exists()
    answers_with_the_note(f"on {second}")
    losses["migrate"] = pinger.lost()
    assert chain_on(second)

    # revert: back on the first host, its own disk
    osc("server", "resize", "revert", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 120, "ACTIVE after the revert")
    assert osc("server", "show", "vm1")["OS-EXT-SRV-ATTR:host"] == first
    assert not folder(second).exists() and (folder(first) / "disk").is_file()
    answers_with_the_note("after the revert")
    assert ComputeNode.objects.get(host=second).memory_mb_used == 0

    # migrate again and confirm: the first host lets go of everything
    pinger = Prober(address)
    osc("server", "migrate", "--wait", "vm1", raw=True)
    assert osc("server", "show", "vm1")["status"] == "VERIFY_RESIZE", cloud.logs()
    osc("server", "resize", "confirm", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 60, "ACTIVE after the confirm")
    answers_with_the_note(f"confirmed on {second}")
    losses["migrate+confirm"] = pinger.lost()
    assert not folder(first).exists() and not folder(first).with_name(name + "_resize").exists()
    assert ComputeNode.objects.get(host=first).memory_mb_used == 0
    assert ComputeNode.objects.get(host=second).memory_mb_used == 256
    cloud.wait(lambda: chain_on(second) and not chain_on(first), 30, "the chain to follow the guest")
    rows = Migration.objects.filter(instance_uuid=uuid).order_by("id")
    assert [(m.migration_type, m.status, m.source_compute, m.dest_compute) for m in rows] == [
        ("migration", "reverted", first, second), ("migration", "confirmed", first, second)]
    listed = osc("server", "migration", "list")
    assert sorted(row["Status"] for row in listed) == ["confirmed", "reverted"], listed

    # resize to a bigger flavor: to the other host (ALLOW_RESIZE_TO_SAME_HOST is off)
    pinger = Prober(address)
    osc("server", "resize", "--flavor", "mig.big", "--wait", "vm1", raw=True)
    shown = osc("server", "show", "vm1")
    assert shown["status"] == "VERIFY_RESIZE" and shown["OS-EXT-SRV-ATTR:host"] == first, cloud.logs()
    assert _domain(name) == (True, 384)
    osc("server", "resize", "confirm", "vm1", raw=True)
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] == "ACTIVE", 60, "ACTIVE after the resize")
    answers_with_the_note(f"resized on {first}")
    losses["resize to the other host"] = pinger.lost()
    assert not folder(second).exists() and not InstanceResize.objects.exists()
    assert Instance.objects.get(uuid=uuid).host == first

    # evacuate: refused while the guest's host is up, then its host dies
    refused = osc("server", "evacuate", "vm1", raw=True, check=False)
    assert refused.returncode != 0 and "400: Client Error" in refused.stderr and "still in use" in refused.stderr, \
        refused.stderr
    cloud.kill(f"agent-{first}", signal.SIGTERM)
    _power_off(name)
    osc("--os-compute-api-version", "2.11", "compute", "service", "set", "--down", first, "nova-compute", raw=True)
    evacuated = osc("server", "evacuate", "vm1", raw=True)
    assert evacuated.returncode == 0, evacuated.stderr
    cloud.wait(lambda: osc("server", "show", "vm1")["status"] in ("ACTIVE", "ERROR"), BOOT_TIMEOUT,
               "the evacuation to end")
    shown = osc("server", "show", "vm1")
    assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", second), cloud.logs()
    assert shown["addresses"]["mignet"] == [address]
    assert _domain(name) == (True, 384) and (folder(second) / "disk").is_file()
    cloud.wait(lambda: http(address), BOOT_TIMEOUT, f"HTTP from the evacuated guest on {second}")
    note = cloud.wait(lambda: get(address, "/cgi-bin/note"), 30, "the note CGI of the evacuated guest")
    assert note.strip() == "NOTE none"  # rebuilt from the image: a fresh disk
    assert (folder(first) / "disk").is_file()  # the dead host's leftovers, until its agent returns
    (row,) = Migration.objects.filter(instance_uuid=uuid, migration_type="evacuation")
    assert (row.status, row.source_compute, row.dest_compute) == ("done", first, second)

    # the first host comes back: its agent removes what it held, never the new host's guest
    cloud.start_agent(first, LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu")
    cloud.wait(lambda: Migration.objects.get(pk=row.pk).status == "completed", 120,
               f"{first}'s agent to clean up after the evacuation")
    assert not folder(first).exists()
    assert _domain(name) == (True, 384) and http(address) is not None
    cloud.wait(lambda: chain_on(second) and not chain_on(first), 30, "the chain to be the new host's only")
    osc("--os-compute-api-version", "2.11", "compute", "service", "set", "--up", first, "nova-compute", raw=True)
    assert ComputeNode.objects.get(host=first).memory_mb_used == 0
    assert ComputeNode.objects.get(host=second).memory_mb_used == 384

    with capsys.disabled():
        print("\nHTTP probes through each move (sent, unanswered):", losses)
