"""Volumes, snapshots and tags through boto3 (no worker: the volume host's part is played in the
DB, as the host would report it; attaching to a real guest is test_journey_qemu.py's)."""
import pytest
from botocore.exceptions import ClientError

from ec2.services import ids
from volumes import states
from volumes.models import Snapshot, Volume
from volumes.services import snapshots as snapshot_service

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def code_of(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_volumes_snapshots_and_tags(ec2_account, ec2, bootable, volume_host_a, sent):
    _user, project, credential = ec2_account("ec2vol")
    client = ec2(credential)
    created = client.create_volume(Size=1, AvailabilityZone="nova", TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "data"}]}])
    volume_id = created["VolumeId"]
    assert (created["Size"], created["State"], created["AvailabilityZone"]) == (1, "creating", "nova")
    row = Volume.objects.get(pk=ids.key_of(volume_id, "vol"))
    assert (row.project_id, row.name, row.metadata) == (project.id, "data", {"Name": "data"})
    Volume.objects.filter(pk=row.pk).update(status=states.AVAILABLE)  # the volume host reported it made

    (shown,) = client.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    assert shown["State"] == "available" and shown["Attachments"] == []
    assert {"Key": "Name", "Value": "data"} in shown["Tags"]
    assert client.describe_volumes(Filters=[{"Name": "status", "Values": ["in-use"]}])["Volumes"] == []
    client.create_tags(Resources=[volume_id], Tags=[{"Key": "tier", "Value": "gold"}])
    tags = client.describe_tags(Filters=[{"Name": "resource-type", "Values": ["volume"]}])["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("Name", "data"), ("tier", "gold")]
    client.delete_tags(Resources=[volume_id], Tags=[{"Key": "tier"}])
    assert Volume.objects.get(pk=row.pk).metadata == {"Name": "data"}

    snapshot = client.create_snapshot(VolumeId=volume_id, Description="before the upgrade")
    snapshot_id = snapshot["SnapshotId"]
    assert snapshot["State"] == "pending" and snapshot["VolumeId"] == volume_id
    Snapshot.objects.filter(pk=ids.key_of(snapshot_id, "snap")).update(status=states.AVAILABLE)
    (listed,) = client.describe_snapshots(OwnerIds=["self"])["Snapshots"] or client.describe_snapshots()["Snapshots"]
    assert (listed["SnapshotId"], listed["State"], listed["Description"]) == (snapshot_id, "completed",
                                                                              "before the upgrade")
    restored = client.create_volume(SnapshotId=snapshot_id, AvailabilityZone="nova")
    assert restored["SnapshotId"] == snapshot_id and restored["Size"] == 1

    with pytest.raises(ClientError) as excinfo:
        client.describe_volumes(VolumeIds=["vol-7fffffff"])
    assert code_of(excinfo) == "InvalidVolume.NotFound"
    with pytest.raises(ClientError) as excinfo:
        client.attach_volume(VolumeId=volume_id, InstanceId="i-7fffffff", Device="/dev/vdb")
    assert code_of(excinfo) == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as excinfo:
        client.detach_volume(VolumeId=volume_id)
    assert code_of(excinfo) == "IncorrectState"
    with pytest.raises(ClientError) as excinfo:
        client.create_volume(Size=100000, AvailabilityZone="nova")
    assert code_of(excinfo) in ("VolumeLimitExceeded", "InvalidParameterValue")

    client.delete_snapshot(SnapshotId=snapshot_id)
    with pytest.raises(ClientError) as excinfo:
        client.delete_volume(VolumeId=volume_id)  # its snapshot is still being deleted
    assert code_of(excinfo) == "IncorrectState" and "snapshot" in excinfo.value.response["Error"]["Message"]
    snapshot_service.finish_delete(ids.key_of(snapshot_id, "snap"))  # the volume host removed it
    assert client.describe_snapshots()["Snapshots"] == []
    client.delete_volume(VolumeId=volume_id)
    assert Volume.objects.get(pk=row.pk).status == states.DELETING
    # another project sees none of it
    _other_user, _other, theirs = ec2_account("ec2vol-other")
    assert ec2(theirs).describe_volumes()["Volumes"] == []
    with pytest.raises(ClientError) as excinfo:
        ec2(theirs).delete_volume(VolumeId=restored["VolumeId"])
    assert code_of(excinfo) == "InvalidVolume.NotFound"
