"""`./manage.py volume list|delete|reattach` as an operator sees them (nova-manage style)."""
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cloudproj.testing.volumes import VOLUME_HOST_A as HOST
from cloudproj.testing.volumes import create
from volumes.models import Volume, VolumeAttachment
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_list_delete_reattach(member_client, member_account, volume_host_a, settings):
    project = member_account[1]
    ready = Volume.objects.get(uuid=create(member_client, project, name="ready")["id"])
    volume_host.create_volume(ready.id)
    stuck = Volume.objects.get(uuid=create(member_client, project, name="stuck")["id"])  # creating forever
    lines = run("volume", "list").splitlines()
    assert lines[0].split() == ["id", "uuid", "name", "size", "status", "host", "project", "instance", "device"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[ready.ec2_id][2:6] == ["ready", "1", "available", HOST]
    assert rows[stuck.ec2_id][4] == "creating"
    assert run("volume", "list", "--host", "elsewhere").splitlines()[1:] == []

    # delete bypasses the status check (a volume stuck in creating) ...
    assert f"volume {stuck.ec2_id} is being deleted on {HOST}" in run("volume", "delete", stuck.ec2_id)
    assert Volume.objects.get(pk=stuck.pk).status == "deleting"
    volume_host.delete_volume(stuck.id)
    assert not Volume.objects.filter(pk=stuck.pk).exists()
    # ... but never deletes an attached one
    Volume.objects.filter(pk=ready.pk).update(status="in-use")
    VolumeAttachment.objects.create(volume=ready, instance_uuid=uuid.uuid4(), instance_host=HOST, device="/dev/vdb")
    with pytest.raises(CommandError, match="in-use"):
        run("volume", "delete", str(ready.uuid))
    with pytest.raises(CommandError, match="could not be found"):
        run("volume", "delete", "vol-7fffffff")
    # reattach is for attached volumes only
    VolumeAttachment.objects.all().delete()
    Volume.objects.filter(pk=ready.pk).update(status="available")
    with pytest.raises(CommandError, match="not attached"):
        run("volume", "reattach", str(ready.id))
