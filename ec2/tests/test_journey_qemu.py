"""The seeds' tutorial in EC2 terms, end to end with a real guest, driven by boto3 and the aws
CLI: create a key pair, authorize ssh (and http, to see the guest), run an instance of the
project's test image through the real scheduler and agent (libvirt/QEMU), wait for running,
read its console (the guest printed the instance id and key it read from the metadata
service: the same ids the EC2 API answers), allocate and associate an address and reach the
guest through it from an "outside" network namespace, see ping refused until authorized,
create a volume, attach it (the guest sees and writes it), detach it, terminate."""
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from django.core.management import call_command

from cloudproj.testing.host_network import range_in_use
from cloudproj.testing.real_guest import free_port, http, real_guest_cloud, start_metadata_service
from compute.models import KeyPair
from floating.linux import nat
from floating.services.host import prefix_for
from identity.services import accounts
from images.testimage import builder
from metadata.linux import iptables
from volumes.models import VolumeHost

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "ec2-qemu"
BRIDGE = "cptec20"
CIDR = "10.243.0.0/24"
INSTANCE_IDS = 0x243000
OUTSIDE = "cptec2-out"
PUB, PUB_PEER = "cptec2pub0", "cptec2pub1"
PUBLIC_CIDR, PUBLIC_GATEWAY, OUTSIDE_ADDR = "198.51.100.0/26", "198.51.100.1", "198.51.100.2"
RANGE = "198.51.100.48/28"
BOOT_TIMEOUT = 150


def sh(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


def outside(*argv, timeout: float = 5):
    return subprocess.run(["ip", "netns", "exec", OUTSIDE, *argv], capture_output=True, text=True,
                          timeout=timeout + 15)


def outside_get(url: str, timeout: float = 3) -> str:
    proc = outside("curl", "-s", "-m", str(timeout), url, timeout=timeout)
    return proc.stdout if proc.returncode == 0 else ""


def outside_ping(address: str) -> bool:
    """One echo request from the outside (busybox's ping: busybox-static is a host package; the
    machines have no iputils)."""
    return outside("busybox", "ping", "-c", "1", "-W", "2", address).returncode == 0


def guest_disk(address: str, query: str) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}/cgi-bin/disk?{query}", timeout=10) as response:
            return response.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _cleanup_public_side():
    subprocess.run(["ip", "netns", "del", OUTSIDE], capture_output=True)
    subprocess.run(["ip", "link", "del", "dev", PUB], capture_output=True)


@pytest.fixture
def public_side():
    """An "outside" namespace on a veth pair whose host end carries the floating addresses."""
    _cleanup_public_side()
    used = range_in_use(PUBLIC_CIDR)
    if used:
        pytest.skip(f"the test's public range {PUBLIC_CIDR} is this machine's own network: {used}")
    forwarding = nat.FORWARDING.read_text()
    try:
        sh("ip", "netns", "add", OUTSIDE)
        sh("ip", "link", "add", PUB, "type", "veth", "peer", "name", PUB_PEER)
        sh("ip", "link", "set", PUB_PEER, "netns", OUTSIDE)
        sh("ip", "addr", "add", f"{PUBLIC_GATEWAY}/26", "dev", PUB)
        sh("ip", "link", "set", PUB, "up")
        for argv in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{OUTSIDE_ADDR}/26", "dev", PUB_PEER],
                     ["ip", "link", "set", PUB_PEER, "up"]):
            sh("ip", "netns", "exec", OUTSIDE, *argv)
        yield
    finally:
        _cleanup_public_side()
        nat.FORWARDING.write_text(forwarding)


@pytest.fixture
def real_cloud(settings, tmp_path, admin_account, osc, public_side):
    port = free_port()

    def before_agents(cloud):
        start_metadata_service(cloud, port)
        call_command("floating", "create", f"--ip_range={RANGE}", "--pool", settings.DEFAULT_FLOATING_POOL,
                     "--interface", PUB)

    agent_env = {"VOLUME_DRIVER": "file", "VOLUME_FILE_CAPACITY_GB": 20, "VOLUME_CLEAR_SIZE_MB": 1,
                 "FLOATING_INTERFACE": PUB}
    try:
        with real_guest_cloud(settings, tmp_path, osc, label="ec2net", cidr=CIDR, bridge=BRIDGE, host=HOST,
                              instance_id_start=INSTANCE_IDS, servers=(), cloud_env={"METADATA_PORT": port},
                              agent_env=agent_env, before_agents=before_agents) as env:
            env.cloud.wait(lambda: VolumeHost.objects.filter(host=HOST).exists(), 30, "the volume host's report")
            yield env.cloud
    finally:
        nat.remove_rules(prefix_for(HOST))  # after the agent stopped: it would put them back
        iptables.remove([BRIDGE])


def test_the_tutorial_in_ec2_terms_with_a_real_guest(real_cloud, live_server, admin_account, aws):
    cloud = real_cloud
    user, project, _token = admin_account
    credential = accounts.create_ec2_credential(user, project)
    ec2 = boto3.client("ec2", endpoint_url=f"{live_server.url}/ec2/", region_name="RegionOne",
                       aws_access_key_id=credential.access, aws_secret_access_key=credential.secret,
                       config=Config(retries={"max_attempts": 1}))
    fast = {"Delay": 2, "MaxAttempts": BOOT_TIMEOUT // 2}
    instance_id = None
    try:
        # key pair, ssh and http in, the image
        key = ec2.create_key_pair(KeyName="tutorial")
        assert "PRIVATE KEY" in key["KeyMaterial"]
        aws(credential, "authorize-security-group-ingress", "--group-name", "default", "--protocol", "tcp",
            "--port", "22", "--cidr", "0.0.0.0/0")
        ec2.authorize_security_group_ingress(GroupName="default", IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        (image,) = ec2.describe_images(Filters=[{"Name": "name", "Values": ["cloudproj-test"]}])["Images"]
        assert image["KernelId"].startswith("aki-") and image["RamdiskId"].startswith("ari-")

        # run, and wait for running (botocore's own waiter polls DescribeInstances)
        run = ec2.run_instances(ImageId=image["ImageId"], InstanceType="m1.tiny", MinCount=1, MaxCount=1,
                                KeyName="tutorial")
        instance_id = run["Instances"][0]["InstanceId"]
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id], WaiterConfig=fast)
        shown = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        assert (shown["State"]["Code"], shown["ImageId"], shown["KernelId"]) == (16, image["ImageId"],
                                                                                 image["KernelId"])
        fixed = shown["PrivateIpAddress"]
        marker = f"{builder.MARKER_UP} hostname="
        cloud.wait(lambda: marker in (http(fixed) or ""), BOOT_TIMEOUT, "HTTP from the guest")

        # the console: the guest read its EC2 instance id and the key pair from the metadata service
        public_key = KeyPair.objects.get(name="tutorial").public_key.strip()
        import hashlib

        key_line = f"{builder.MARKER_METADATA_KEY} {public_key[:40]} md5={hashlib.md5(public_key.encode()).hexdigest()}"

        def console() -> str:
            return ec2.get_console_output(InstanceId=instance_id).get("Output", "")
        cloud.wait(lambda: f"{builder.MARKER_METADATA} instance-id={instance_id}" in console()
                   and key_line in console(), BOOT_TIMEOUT, "the metadata lines on the console")
        assert builder.MARKER_UP in aws(credential, "get-console-output", "--instance-id", instance_id)["Output"]

        # an address: the outside reaches the guest through it; ping only once authorized
        public_ip = ec2.allocate_address(Domain="standard")["PublicIp"]
        assert public_ip.startswith("198.51.100.")
        association = ec2.associate_address(PublicIp=public_ip, InstanceId=instance_id)["AssociationId"]
        assert marker in cloud.wait(lambda: outside_get(f"http://{public_ip}/"), 30, "HTTP through the address")
        shown = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        assert shown["PublicIpAddress"] == public_ip
        assert outside_ping(PUBLIC_GATEWAY)  # the tool works: the host end of the link answers
        assert not outside_ping(public_ip)
        aws(credential, "authorize-security-group-ingress", "--group-name", "default", "--protocol", "icmp",
            "--port", "-1", "--cidr", "0.0.0.0/0")
        cloud.wait(lambda: outside_ping(public_ip), 30, "ping through the address once icmp is authorized")

        # a volume: created, attached (the guest sees vdb and writes it), detached
        zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
        volume_id = ec2.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=fast)
        attached = ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device="/dev/vdb")
        assert (attached["Device"], attached["State"]) == ("/dev/vdb", "attached"), cloud.logs()
        (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        assert volume["State"] == "in-use" and volume["Attachments"][0]["InstanceId"] == instance_id
        shown = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        assert [(m["DeviceName"], m["Ebs"]["VolumeId"]) for m in shown["BlockDeviceMappings"]] == [
            ("/dev/vdb", volume_id)]
        cloud.wait(lambda: "vdb" in guest_disk(fixed, "list").split(), 30, "vdb to appear in the guest")
        token = f"tok-{uuid.uuid4().hex[:12]}"
        assert guest_disk(fixed, f"write={token}&dev=vdb") == f"DISK-WRITTEN {token}"
        ec2.detach_volume(VolumeId=volume_id)
        ec2.get_waiter("volume_available").wait(VolumeIds=[volume_id], WaiterConfig=fast)
        cloud.wait(lambda: "vdb" not in guest_disk(fixed, "list").split(), 30, "vdb to leave the guest")

        # terminate: the address lets go, the guest stops answering
        ec2.disassociate_address(AssociationId=association)
        cloud.wait(lambda: not outside_get(f"http://{public_ip}/", 2), 30, "the address to stop answering")
        ec2.terminate_instances(InstanceIds=[instance_id])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=fast)
        instance_id = None
        deadline = time.monotonic() + 30
        while http(fixed, 2) and time.monotonic() < deadline:
            time.sleep(1)
        assert not http(fixed, 2)
        ec2.release_address(PublicIp=public_ip)
        ec2.delete_volume(VolumeId=volume_id)
        assert ec2.describe_addresses()["Addresses"] == []
    finally:
        if instance_id is not None:
            try:
                ec2.terminate_instances(InstanceIds=[instance_id])
                ec2.get_waiter("instance_terminated").wait(InstanceIds=[instance_id], WaiterConfig=fast)
            except Exception as exc:  # the cloud's teardown removes the domain anyway  # noqa: BLE001
                print("terminate in teardown failed:", exc)
