"""End to end with real guests: the real `openstack` client, the scheduler and a host agent
on libvirt/QEMU, a metadata service process (gunicorn metadata.wsgi) on its own port, the
project's test image on bridge cptmd0. Each guest reads 169.254.169.254 at boot and prints
its instance-id and the public key it got on its console; a second guest only ever gets its
own."""
import hashlib
import os
import urllib.error
import urllib.request

import pytest

from cloudproj.testing.real_guest import free_port, real_guest_cloud, start_metadata_service
from compute.models import Instance, KeyPair
from images.testimage import builder
from metadata.linux import iptables

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "md-host"
BRIDGE = "cptmd0"
CIDR = "10.237.0.0/24"
GATEWAY = "10.237.0.1"
BOOT_TIMEOUT = 150


@pytest.fixture
def md_cloud(settings, tmp_path, admin_account, osc):
    port = free_port()
    try:
        with real_guest_cloud(settings, tmp_path, osc, label="mdnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                              servers=("vm1", "vm2"), cloud_env={"METADATA_PORT": port},
                              before_agents=lambda cloud: start_metadata_service(cloud, port)) as env:
            yield {"cloud": env.cloud, "network": env.network, "port": port}
    finally:
        iptables.remove([BRIDGE])  # after the agent stopped: it would put the rule back


def _key_marker(public_key: str) -> str:
    line = public_key.strip().splitlines()[0]
    return f"{builder.MARKER_METADATA_KEY} {line[:40]} md5={hashlib.md5(line.encode()).hexdigest()}"


def _boot(osc, name: str, key: str) -> Instance:
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--key-name", key,
                 "--wait", name)
    assert server["status"] == "ACTIVE"
    return Instance.objects.get(uuid=server["id"])


def test_guests_read_their_own_instance_id_and_key_from_169_254_169_254(md_cloud, osc):
    cloud, port = md_cloud["cloud"], md_cloud["port"]
    osc("keypair", "create", "k", raw=True)
    osc("keypair", "create", "j", raw=True)
    keys = {pair.name: pair.public_key for pair in KeyPair.objects.filter(name__in=["k", "j"])}

    def console(name):
        return osc("console", "log", "show", name, raw=True).stdout

    # the DNAT is in place on the bridge once the instance has its address
    vm1 = _boot(osc, "vm1", "k")
    assert iptables.rules_of(BRIDGE)["nat"] == [
        f"-A {iptables.chain()} -d 169.254.169.254/32 -i {BRIDGE} -p tcp -m tcp --dport 80 "
        f"-j DNAT --to-destination {GATEWAY}:{port}"]
    id_line1 = f"{builder.MARKER_METADATA} instance-id={vm1.ec2_id} hostname=vm1.novalocal"
    cloud.wait(lambda: id_line1 in console("vm1") and _key_marker(keys["k"]) in console("vm1"), BOOT_TIMEOUT,
               "vm1's instance-id and key from the metadata service on its console")

    vm2 = _boot(osc, "vm2", "j")
    id_line2 = f"{builder.MARKER_METADATA} instance-id={vm2.ec2_id} hostname=vm2.novalocal"
    cloud.wait(lambda: id_line2 in console("vm2") and _key_marker(keys["j"]) in console("vm2"), BOOT_TIMEOUT,
               "vm2's instance-id and key on its console")
    # the second guest asked the same address for the same paths and got nothing of vm1's
    seen2 = console("vm2")
    assert vm1.ec2_id not in seen2 and _key_marker(keys["k"]) not in seen2
    assert seen2.count(f"{builder.MARKER_METADATA} instance-id=") == 1
    assert vm2.ec2_id not in console("vm1")

    # and the host itself (an address of the bridge, no instance's) gets nothing at all
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(f"http://{GATEWAY}:{port}/latest/meta-data/instance-id", timeout=5)
    assert answer.value.code == 404
    log = (cloud.tmp_path / "metadata.log").read_text()
    assert '"GET /latest/meta-data/instance-id HTTP/1.0" 200' in log  # the guests' own requests
    assert os.path.exists(f"/sys/class/net/{BRIDGE}")
