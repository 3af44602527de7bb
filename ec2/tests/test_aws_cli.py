"""The real aws CLI (awscli 1.x, pinned in requirements-dev.txt) against a live server, as a
user with the EC2 credentials of their project: key pairs, a security group with ssh and ping,
an instance run, listed and terminated, an address, and the CLI's own error reports. No
worker runs (tasks recorded): the instance's host is played in the DB."""
import base64

import pytest

from cloudproj.testing.servers import make_active
from compute.models import Instance
from ec2.services import ids
from network.services import fixed_ips

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_tutorial_with_the_aws_cli(aws, ec2_account, bootable, sent, tmp_path):
    _user, _project, me = ec2_account("ec2cli")
    key = aws(me, "create-key-pair", "--key-name", "mykey")
    assert key["KeyName"] == "mykey" and "PRIVATE KEY" in key["KeyMaterial"]
    public = tmp_path / "other.pub"
    public.write_text("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lA7sKmUhzEUI0kLnxOL6Bc"
                      "IwVFqVAuyO8lEvtH0Cd8mBbYlCZ1lwG8p9VUw9ujm1rOdrXJYFcDBkDMuHUZMhJqFmuTv1WsWSszSCCMJBBUKc6fNrW/"
                      "xMAPKFGNqSbJGNR6M3Nr6kLX1w== me@laptop\n")
    aws(me, "import-key-pair", "--key-name", "laptop", "--public-key-material", f"fileb://{public}")
    names = [k["KeyName"] for k in aws(me, "describe-key-pairs")["KeyPairs"]]
    assert names == ["laptop", "mykey"]

    aws(me, "authorize-security-group-ingress", "--group-name", "default", "--protocol", "tcp", "--port", "22",
        "--cidr", "0.0.0.0/0")
    aws(me, "authorize-security-group-ingress", "--group-name", "default", "--ip-permissions",
        "IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=0.0.0.0/0}]")
    (default,) = aws(me, "describe-security-groups", "--group-names", "default")["SecurityGroups"]
    rules = {(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) for p in default["IpPermissions"]}
    assert {("tcp", 22, 22), ("icmp", -1, -1)} <= rules

    (image,) = aws(me, "describe-images", "--filters", "Name=name,Values=tiny-img")["Images"]
    user_data = tmp_path / "user-data"
    user_data.write_text("#!/bin/sh\necho from-the-cli\n")
    run = aws(me, "run-instances", "--image-id", image["ImageId"], "--instance-type", "m1.tiny", "--count", "1",
              "--key-name", "mykey", "--user-data", f"file://{user_data}")
    (instance,) = run["Instances"]
    assert instance["State"]["Name"] == "pending" and instance["KeyName"] == "mykey"
    row = Instance.objects.get(pk=ids.key_of(instance["InstanceId"], "i"))
    assert base64.b64decode(row.user_data) == b"#!/bin/sh\necho from-the-cli\n"

    address = fixed_ips.allocate_fixed_ip(bootable["network"], row.uuid, host="cli-host", hostname="vm").address
    bootable["network"].host = "cli-host"
    bootable["network"].save(update_fields=["host"])
    make_active(str(row.uuid), host="cli-host")
    listed = aws(me, "describe-instances", "--filters", "Name=instance-state-name,Values=running")
    (shown,) = [i for r in listed["Reservations"] for i in r["Instances"]]
    assert (shown["InstanceId"], shown["PrivateIpAddress"]) == (instance["InstanceId"], address)
    text = aws(me, "describe-instances", "--query", "Reservations[].Instances[].InstanceId")
    assert text == [instance["InstanceId"]]

    public_ip = aws(me, "allocate-address")["PublicIp"]
    aws(me, "associate-address", "--instance-id", instance["InstanceId"], "--public-ip", public_ip)
    (eip,) = aws(me, "describe-addresses")["Addresses"]
    assert (eip["PublicIp"], eip["InstanceId"], eip["PrivateIpAddress"]) == (public_ip, instance["InstanceId"], address)
    aws(me, "disassociate-address", "--public-ip", public_ip)
    aws(me, "release-address", "--public-ip", public_ip)
    assert aws(me, "describe-addresses")["Addresses"] == []

    aws(me, "create-tags", "--resources", instance["InstanceId"], "--tags", "Key=Name,Value=web-1")
    tags = aws(me, "describe-tags", "--filters", f"Name=resource-id,Values={instance['InstanceId']}")["Tags"]
    assert [(t["Key"], t["Value"], t["ResourceType"]) for t in tags] == [("Name", "web-1", "instance")]

    gone = aws(me, "terminate-instances", "--instance-ids", instance["InstanceId"])["TerminatingInstances"][0]
    assert gone["PreviousState"]["Name"] == "running"
    assert gone["CurrentState"]["Name"] in ("shutting-down", "terminated")

    # the CLI shows EC2's error codes as it does for AWS
    failed = aws(me, "describe-instances", "--instance-ids", "i-7ffffff0", check=False)
    assert failed.returncode in (254, 255)
    assert "InvalidInstanceID.NotFound" in failed.stderr and "i-7ffffff0" in failed.stderr
    failed = aws(me, "create-key-pair", "--key-name", "mykey", check=False)
    assert failed.returncode in (254, 255) and "InvalidKeyPair.Duplicate" in failed.stderr
    me.secret = "wrong"
    failed = aws(me, "describe-regions", check=False)
    assert failed.returncode in (254, 255) and "SignatureDoesNotMatch" in failed.stderr
