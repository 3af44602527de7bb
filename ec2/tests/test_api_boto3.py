"""The real boto3 client against a live server: key pairs, security groups, images, instances
and addresses in EC2's shapes. No worker runs (the tasks the API queues are recorded): a server
stays pending until the test moves it as its host would (placed, an address, active)."""
import base64

import pytest
from botocore.exceptions import ClientError

from compute.models import Instance
from cloudproj.testing.servers import make_active
from ec2.services import ids
from floating.models import FloatingIP
from network.services import fixed_ips
from secgroups.models import SecurityGroupRule

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PUBLIC_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lA7sKmUhzEUI0"
              "kLnxOL6BcIwVFqVAuyO8lEvtH0Cd8mBbYlCZ1lwG8p9VUw9ujm1rOdrXJYFcDBkDMuHUZMhJqFmuTv1WsWSs"
              "zSCCMJBBUKc6fNrW/xMAPKFGNqSbJGNR6M3Nr6kLX1w== test@ec2")


def code_of(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def client(ec2_account, ec2):
    user, project, credential = ec2_account("ec2demo")
    return ec2(credential)


def test_key_pairs(client):
    created = client.create_key_pair(KeyName="k1")
    assert created["KeyName"] == "k1"
    assert created["KeyMaterial"].startswith("-----BEGIN")
    assert created["KeyPairId"].startswith("key-")
    imported = client.import_key_pair(KeyName="k2", PublicKeyMaterial=PUBLIC_KEY.encode())
    assert imported["KeyFingerprint"].count(":") == 15
    pairs = client.describe_key_pairs()["KeyPairs"]
    assert [(p["KeyName"], p["KeyFingerprint"]) for p in pairs] == [
        ("k1", created["KeyFingerprint"]), ("k2", imported["KeyFingerprint"])]
    assert client.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["k*2"]}])["KeyPairs"][0]["KeyName"] == "k2"
    with pytest.raises(ClientError) as excinfo:
        client.create_key_pair(KeyName="k1")
    assert code_of(excinfo) == "InvalidKeyPair.Duplicate"
    with pytest.raises(ClientError) as excinfo:
        client.describe_key_pairs(KeyNames=["nope"])
    assert code_of(excinfo) == "InvalidKeyPair.NotFound"
    with pytest.raises(ClientError) as excinfo:
        client.import_key_pair(KeyName="bad", PublicKeyMaterial=b"not a key")
    assert code_of(excinfo) == "InvalidKey.Format"
    client.delete_key_pair(KeyName="k1")
    assert [p["KeyName"] for p in client.describe_key_pairs()["KeyPairs"]] == ["k2"]


def test_security_groups_classic_and_ip_permissions(client):
    default = client.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    assert default["GroupId"].startswith("sg-")
    # as EC2's default group: its members may reach each other
    assert [(p["IpProtocol"], [g["GroupId"] for g in p["UserIdGroupPairs"]]) for p in default["IpPermissions"]] == [
        ("-1", [default["GroupId"]])]
    web = client.create_security_group(GroupName="web", Description="web servers")["GroupId"]
    client.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22, ToPort=22,
                                            CidrIp="0.0.0.0/0")
    answer = client.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 81, "UserIdGroupPairs": [{"GroupId": default["GroupId"]}]},
    ])
    assert len(answer["SecurityGroupRules"]) == 2
    (group,) = client.describe_security_groups(GroupIds=[web])["SecurityGroups"]
    assert (group["GroupName"], group["Description"]) == ("web", "web servers")
    permissions = {(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")): p for p in group["IpPermissions"]}
    assert permissions[("tcp", 22, 22)]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert permissions[("icmp", -1, -1)]["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]
    assert permissions[("tcp", 80, 81)]["UserIdGroupPairs"][0]["GroupId"] == default["GroupId"]
    assert SecurityGroupRule.objects.filter(parent_group__name="web").count() >= 3
    with pytest.raises(ClientError) as excinfo:
        client.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22, ToPort=22,
                                                CidrIp="0.0.0.0/0")
    assert code_of(excinfo) == "InvalidPermission.Duplicate"
    with pytest.raises(ClientError) as excinfo:
        client.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=99999, ToPort=1,
                                                CidrIp="0.0.0.0/0")
    assert code_of(excinfo) == "InvalidParameterValue"
    client.revoke_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0")
    with pytest.raises(ClientError) as excinfo:
        client.revoke_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=22, ToPort=22,
                                             CidrIp="0.0.0.0/0")
    assert code_of(excinfo) == "InvalidPermission.NotFound"
    names = [g["GroupName"] for g in client.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["w*"]}])["SecurityGroups"]]
    assert names == ["web"]
    with pytest.raises(ClientError) as excinfo:
        client.create_security_group(GroupName="web", Description="again")
    assert code_of(excinfo) == "InvalidGroup.Duplicate"
    with pytest.raises(ClientError) as excinfo:
        client.delete_security_group(GroupName="default")
    assert code_of(excinfo) == "CannotDelete"
    client.delete_security_group(GroupId=web)
    with pytest.raises(ClientError) as excinfo:
        client.describe_security_groups(GroupIds=[web])
    assert code_of(excinfo) == "InvalidGroup.NotFound"


def test_images_ids_are_stable_and_match_the_metadata_service(client, bootable):
    (image,) = client.describe_images(Owners=["self"])["Images"] or client.describe_images()["Images"]
    assert image["ImageId"].startswith("ami-") and image["Name"] == "tiny-img" and image["State"] == "available"
    assert ids.image_uuid(image["ImageId"]) == str(bootable["image"].id)
    assert client.describe_images(ImageIds=[image["ImageId"]])["Images"][0]["ImageId"] == image["ImageId"]
    from metadata.services.sources import ec2_image_id

    assert ec2_image_id(str(bootable["image"].id)) == image["ImageId"]
    with pytest.raises(ClientError) as excinfo:
        client.describe_images(ImageIds=["ami-7fffffff"])
    assert code_of(excinfo) == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as excinfo:
        client.describe_images(ImageIds=["ami-zz"])
    assert code_of(excinfo) == "InvalidAMIID.Malformed"
    with pytest.raises(ClientError) as excinfo:
        client.register_image(Name="mine", ImageLocation="bucket/image.manifest.xml")
    assert code_of(excinfo) == "Unsupported" and "Image API" in excinfo.value.response["Error"]["Message"]


def test_run_describe_stop_terminate_instances(client, bootable, sent):
    image_id = client.describe_images(Filters=[{"Name": "name", "Values": ["tiny-img"]}])["Images"][0]["ImageId"]
    client.create_key_pair(KeyName="k")
    client.create_security_group(GroupName="ssh", Description="ssh")
    run = client.run_instances(ImageId=image_id, InstanceType="m1.tiny", MinCount=2, MaxCount=2, KeyName="k",
                               SecurityGroups=["ssh"], UserData="#!/bin/sh\necho hi\n", ClientToken="tok-1",
                               TagSpecifications=[{"ResourceType": "instance",
                                                   "Tags": [{"Key": "role", "Value": "web"}]}])
    assert run["ReservationId"].startswith("r-")
    assert [i["State"] for i in run["Instances"]] == [{"Code": 0, "Name": "pending"}] * 2
    assert [i["AmiLaunchIndex"] for i in run["Instances"]] == [0, 1]
    first = run["Instances"][0]
    assert (first["ImageId"], first["InstanceType"], first["KeyName"]) == (image_id, "m1.tiny", "k")
    assert [g["GroupName"] for g in first["SecurityGroups"]] == ["ssh"]
    assert {"Key": "role", "Value": "web"} in first["Tags"]
    assert ("compute.schedule_instance", "scheduler") in {(name, queue) for name, _args, queue in sent}
    row = Instance.objects.get(pk=ids.key_of(first["InstanceId"], "i"))
    assert base64.b64decode(row.user_data) == b"#!/bin/sh\necho hi\n"
    # the same ClientToken answers the same reservation (nothing created again)
    again = client.run_instances(ImageId=image_id, InstanceType="m1.tiny", MinCount=2, MaxCount=2, ClientToken="tok-1")
    assert again["ReservationId"] == run["ReservationId"] and Instance.objects.count() == 2
    attribute = client.describe_instance_attribute(InstanceId=first["InstanceId"], Attribute="userData")
    assert base64.b64decode(attribute["UserData"]["Value"]) == b"#!/bin/sh\necho hi\n"
    assert client.describe_instance_attribute(InstanceId=first["InstanceId"],
                                              Attribute="instanceType")["InstanceType"]["Value"] == "m1.tiny"

    # its host placed it, gave it an address and reported it running
    address = fixed_ips.allocate_fixed_ip(bootable["network"], row.uuid, host="ec2-host", hostname="vm").address
    make_active(str(row.uuid), host="ec2-host")
    (reservation,) = client.describe_instances(InstanceIds=[first["InstanceId"]])["Reservations"]
    shown = reservation["Instances"][0]
    assert shown["State"] == {"Code": 16, "Name": "running"} and shown["PrivateIpAddress"] == address
    running = client.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    assert [i["InstanceId"] for r in running["Reservations"] for i in r["Instances"]] == [first["InstanceId"]]
    tagged = client.describe_instances(Filters=[{"Name": "tag:role", "Values": ["web"]}])["Reservations"]
    assert len(tagged[0]["Instances"]) == 2

    # CreateImage: a snapshot of the running instance, queued on its host, private to the project
    snapshot_id = client.create_image(InstanceId=first["InstanceId"], Name="web-snap")["ImageId"]
    (snap,) = client.describe_images(ImageIds=[snapshot_id], Owners=["self"])["Images"]
    assert (snap["Name"], snap["State"], snap["Public"]) == ("web-snap", "pending", False)
    (args,) = [a for n, a, q in sent if (n, q) == ("compute.snapshot_instance", "compute.ec2-host")]
    assert args[0] == str(row.uuid) and ids.image_uuid(snapshot_id) == args[2]
    Instance.objects.filter(pk=row.pk).update(task_state=None)  # the host finished the snapshot

    stopped = client.stop_instances(InstanceIds=[first["InstanceId"]])["StoppingInstances"][0]
    assert (stopped["PreviousState"]["Name"], stopped["CurrentState"]["Name"]) == ("running", "stopping")
    assert ("compute.instance_action", "compute.ec2-host") in {(name, queue) for name, _args, queue in sent}
    with pytest.raises(ClientError) as excinfo:
        client.start_instances(InstanceIds=[run["Instances"][1]["InstanceId"]])  # pending, no host yet
    assert code_of(excinfo) == "IncorrectInstanceState"
    with pytest.raises(ClientError) as excinfo:
        client.describe_instances(InstanceIds=["i-7fffffff"])
    assert code_of(excinfo) == "InvalidInstanceID.NotFound"
    for malformed in ("instance-1", "i-ffffffffffffffff"):  # the second would overflow the key's bigint
        with pytest.raises(ClientError) as excinfo:
            client.describe_instances(InstanceIds=[malformed])
        assert code_of(excinfo) == "InvalidInstanceID.Malformed"
    with pytest.raises(ClientError) as excinfo:
        client.terminate_instances(InstanceIds=["i-ffffffffffffffff"])
    assert code_of(excinfo) == "InvalidInstanceID.Malformed"

    second = run["Instances"][1]["InstanceId"]
    terminated = client.terminate_instances(InstanceIds=[second])["TerminatingInstances"][0]
    assert terminated["CurrentState"] == {"Code": 48, "Name": "terminated"}  # never placed: gone at once
    (gone,) = [i for r in client.describe_instances(InstanceIds=[second])["Reservations"] for i in r["Instances"]]
    assert gone["State"]["Name"] == "terminated"
    with pytest.raises(ClientError) as excinfo:
        client.run_instances(ImageId=image_id, InstanceType="m9.huge", MinCount=1, MaxCount=1)
    assert code_of(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        client.run_instances(ImageId=image_id, InstanceType="m1.tiny", MinCount=1, MaxCount=1, KeyName="none")
    assert code_of(excinfo) == "InvalidKeyPair.NotFound"


def test_addresses(client, bootable, sent):
    image_id = client.describe_images()["Images"][0]["ImageId"]
    instance_id = client.run_instances(ImageId=image_id, InstanceType="m1.tiny", MinCount=1,
                                       MaxCount=1)["Instances"][0]["InstanceId"]
    row = Instance.objects.get(pk=ids.key_of(instance_id, "i"))
    bootable["network"].host = "ec2-host"
    bootable["network"].save(update_fields=["host"])
    fixed = fixed_ips.allocate_fixed_ip(bootable["network"], row.uuid, host="ec2-host", hostname="vm").address
    make_active(str(row.uuid), host="ec2-host")

    allocated = client.allocate_address(Domain="standard")
    assert allocated["PublicIp"] == "203.0.113.65" and allocated["AllocationId"].startswith("eipalloc-")
    association = client.associate_address(PublicIp=allocated["PublicIp"], InstanceId=instance_id)["AssociationId"]
    (address,) = client.describe_addresses()["Addresses"]
    assert (address["PublicIp"], address["InstanceId"], address["PrivateIpAddress"], address["AssociationId"]) == (
        "203.0.113.65", instance_id, fixed, association)
    shown = client.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert (shown["PublicIpAddress"], shown["PrivateIpAddress"]) == ("203.0.113.65", fixed)
    assert FloatingIP.objects.get(address="203.0.113.65").host == "ec2-host"
    client.disassociate_address(AssociationId=association)
    assert "InstanceId" not in client.describe_addresses(PublicIps=["203.0.113.65"])["Addresses"][0]
    client.release_address(AllocationId=allocated["AllocationId"])
    assert client.describe_addresses()["Addresses"] == []
    with pytest.raises(ClientError) as excinfo:
        client.release_address(PublicIp="203.0.113.65")
    assert code_of(excinfo) == "InvalidAddress.NotFound"
    with pytest.raises(ClientError) as excinfo:
        client.associate_address(AllocationId="eipalloc-7fffffff", InstanceId=instance_id)
    assert code_of(excinfo) == "InvalidAllocationID.NotFound"


def test_dry_run_checks_and_changes_nothing(ec2_account, ec2, bootable, sent):
    _user, _project, member = ec2_account("ec2dry")
    client = ec2(member)
    image_id = client.describe_images()["Images"][0]["ImageId"]
    with pytest.raises(ClientError) as excinfo:
        client.run_instances(ImageId=image_id, InstanceType="m1.tiny", MinCount=1, MaxCount=1, DryRun=True)
    assert code_of(excinfo) == "DryRunOperation"
    assert not Instance.all_objects.exists() and sent == []
    with pytest.raises(ClientError) as excinfo:
        client.create_key_pair(KeyName="k", DryRun=True)
    assert code_of(excinfo) == "DryRunOperation"
    assert client.describe_key_pairs()["KeyPairs"] == []
    with pytest.raises(ClientError) as excinfo:  # a dry run still meets the action's own errors
        client.run_instances(ImageId=image_id, InstanceType="m9.huge", MinCount=1, MaxCount=1, DryRun=True)
    assert code_of(excinfo) == "InvalidParameterValue"
    # a reader may look but not launch: the same policy as the compute API
    _reader, _project, reader = ec2_account("ec2dry", "reader", username="ec2dry-reader")
    assert ec2(reader).describe_instances()["Reservations"] == []
    with pytest.raises(ClientError) as excinfo:
        ec2(reader).run_instances(ImageId=image_id, InstanceType="m1.tiny", MinCount=1, MaxCount=1, DryRun=True)
    assert code_of(excinfo) == "UnauthorizedOperation"
    with pytest.raises(ClientError) as excinfo:
        ec2(reader).create_security_group(GroupName="x", Description="y")
    assert code_of(excinfo) == "UnauthorizedOperation"
