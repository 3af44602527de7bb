"""Compute microversions 2.20 to 2.29 as a client sees them: each step's request and body
changes at its version and not below it (Nova's api_samples and request schemas)."""
import pytest

from cloudproj.testing.factories import make_instance
from cloudproj.testing.servers import API
from cloudproj.testing.volumes import VOLUME_HOST_A, create
from compute import states
from compute.models import Instance
from volumes.models import Volume, VolumeAttachment
from volumes.services import host as volume_host

pytestmark = pytest.mark.django_db


def v(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def call(method, path, version, body=None, status=200):
    args = (f"{API}/{path}", body) if body is not None else (f"{API}/{path}",)
    response = method(*args, format="json", **v(version))
    assert response.status_code == status, response.content
    assert response["OpenStack-API-Version"] == f"compute {version}"
    return response.json() if response.content else None


def test_2_20_volumes_attach_to_and_detach_from_shelved_offloaded_servers(member_client, member_account,
                                                                          volume_host_a):
    from volumes.services.attachments_host import disks_of_instance

    user, project, _token = member_account
    server = make_instance(project, user, host=None, vm_state=states.SHELVED_OFFLOADED, task_state=None)
    volume_id = create(member_client, project)["id"]
    assert volume_host.create_volume(Volume.objects.get(uuid=volume_id).id) == "available"  # the host's part
    path = f"servers/{server.uuid}/os-volume_attachments"
    body = {"volumeAttachment": {"volumeId": volume_id}}

    assert "conflictingRequest" in call(member_client.post, path, "2.19", body, status=409)
    attached = call(member_client.post, path, "2.20", body)["volumeAttachment"]
    # recorded only: no host holds it, so no device yet (Nova answers device null the same way)
    assert attached == {"id": volume_id, "volumeId": volume_id, "serverId": str(server.uuid), "device": None}
    assert Volume.objects.get(uuid=volume_id).status == "in-use"
    assert call(member_client.get, path, "2.20")["volumeAttachments"] == [attached]
    assert "conflictingRequest" in call(member_client.delete, f"{path}/{volume_id}", "2.19", status=409)
    assert call(member_client.delete, f"{path}/{volume_id}", "2.20", status=202) is None
    assert Volume.objects.get(uuid=volume_id).status == "available"
    assert call(member_client.get, path, "2.20")["volumeAttachments"] == []

    # attached while offloaded, then unshelved onto the volume's host: the domain gets the disk
    call(member_client.post, path, "2.20", body)
    Instance.objects.filter(pk=server.pk).update(host=VOLUME_HOST_A, vm_state=states.SHELVED_OFFLOADED,
                                                 task_state="unshelving")
    server.refresh_from_db()
    (disk,) = disks_of_instance(server)
    assert disk["target"] == "vdb" and disk["serial"] == volume_id[:20]
    assert VolumeAttachment.objects.get(volume__uuid=volume_id).instance_host == VOLUME_HOST_A
    assert call(member_client.get, path, "2.20")["volumeAttachments"][0]["device"] == "/dev/vdb"


def test_2_21_actions_of_a_deleted_server(member_client, member_account):
    from django.utils import timezone

    from compute.services import actions

    user, project, _token = member_account
    server = make_instance(project, user, vm_state=states.ACTIVE, task_state=None)
    actions.start_action(server, "create", request_id="req-create", user_id=user.id, project_id=project.id)
    actions.start_action(server, "delete", request_id="req-delete", user_id=user.id, project_id=project.id)
    Instance.all_objects.filter(pk=server.pk).update(vm_state=states.DELETED, deleted_at=timezone.now())
    path = f"servers/{server.uuid}/os-instance-actions"

    assert "itemNotFound" in call(member_client.get, path, "2.20", status=404)
    assert "itemNotFound" in call(member_client.get, f"{path}/req-delete", "2.20", status=404)
    listed = call(member_client.get, path, "2.21")["instanceActions"]
    assert [a["action"] for a in listed] == ["delete", "create"]
    shown = call(member_client.get, f"{path}/req-delete", "2.21")["instanceAction"]
    assert shown["action"] == "delete" and shown["instance_uuid"] == str(server.uuid) and shown["events"] == []
