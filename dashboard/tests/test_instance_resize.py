"""Resize, confirm and revert, rescue and shelve from the instance's page, through compute/services/resize.py
(the messages to the scheduler and hosts are captured: no worker runs)."""
from unittest import mock

import pytest

from compute import states
from compute.models import Flavor, Instance, InstanceResize
from compute.services import flavors as flavor_service


@pytest.fixture
def flavors(db):
    flavor_service.ensure_default_flavors()
    return Flavor.objects.get(flavorid="1"), Flavor.objects.get(flavorid="2")


def test_resize_then_confirm_and_revert_from_the_page(member, make_instance, flavors,
                                                     django_capture_on_commit_callbacks):
    tiny, small = flavors
    instance = make_instance(member["project"], member["user"], name="rz", flavor=tiny, flavorid="1",
                             flavor_name=tiny.name, memory_mb=tiny.memory_mb, vcpus=tiny.vcpus,
                             root_gb=tiny.root_gb, vm_state=states.ACTIVE, task_state=None, host="host-a")
    client, page = member["client"], f"/dashboard/instances/{instance.uuid}/"
    html = client.get(page).content.decode()
    assert 'id="resize-form"' in html and small.name in html and 'id="resize-confirm-form"' not in html
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "resize/", {"flavor": "2"})
    assert f"Resizing rz to {small.name}." in client.get(response["Location"]).content.decode()
    assert send.call_args.args[0] == "compute.prep_resize"
    row = Instance.objects.get(pk=instance.pk)
    assert (row.status, row.task_state) == ("RESIZE", states.task.RESIZE_PREP)

    # as the hosts leave it: VERIFY_RESIZE, the page offers confirm and revert
    InstanceResize.objects.filter(instance=row).update(status=InstanceResize.FINISHED, dest_host="host-a")
    Instance.objects.filter(pk=row.pk).update(vm_state=states.RESIZED, task_state=None)
    html = client.get(page).content.decode()
    assert 'id="resize-confirm-form"' in html and 'id="resize-revert-form"' in html
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "resize/revert/")
    assert "Reverting the resize of rz." in client.get(response["Location"]).content.decode()
    assert send.call_args.args[0] == "compute.revert_resize"
    assert Instance.objects.get(pk=row.pk).status == "REVERT_RESIZE"
    # a confirm now is refused with the API's reason, as a message
    response = client.post(page + "resize/confirm/")
    assert "Cannot &#x27;confirm_resize&#x27;" in client.get(response["Location"]).content.decode()


def test_refusals_are_messages_and_other_projects_get_404(member, other, make_instance, flavors):
    tiny, _small = flavors
    mine = make_instance(member["project"], member["user"], name="mine", flavor=tiny, flavorid="1",
                         vm_state=states.ACTIVE, task_state=None, host="host-a")
    response = member["client"].post(f"/dashboard/instances/{mine.uuid}/resize/", {"flavor": "no-such"})
    assert "Unable to locate requested flavor." in member["client"].get(response["Location"]).content.decode()
    response = member["client"].post(f"/dashboard/instances/{mine.uuid}/resize/", {"flavor": "1"})
    assert "must change flavor" in member["client"].get(response["Location"]).content.decode()
    assert not InstanceResize.objects.exists()
    theirs = make_instance(other["project"], other["user"], name="theirs")
    for path in ("resize/", "resize/confirm/", "resize/revert/"):
        assert member["client"].post(f"/dashboard/instances/{theirs.uuid}/{path}", {"flavor": "2"}).status_code == 404


def test_rescue_and_shelve_buttons_go_to_the_host(member, make_instance, flavors, django_capture_on_commit_callbacks):
    instance = make_instance(member["project"], member["user"], name="rs", vm_state=states.ACTIVE, task_state=None,
                             host="host-a")
    client, page = member["client"], f"/dashboard/instances/{instance.uuid}/"
    html = client.get(page).content.decode()
    assert 'id="rescue-form"' in html and 'id="shelve-form"' in html and 'id="unrescue-form"' not in html
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "rescue/")
    assert "Rescuing rs" in client.get(response["Location"]).content.decode()
    assert send.call_args.kwargs["args"][2] == "rescue"
    assert Instance.objects.get(pk=instance.pk).task_state == states.task.RESCUING
    Instance.objects.filter(pk=instance.pk).update(vm_state=states.RESCUED, task_state=None)
    html = client.get(page).content.decode()
    assert 'id="unrescue-form"' in html and 'id="shelve-form"' not in html
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        client.post(page + "unrescue/")
    assert send.call_args.kwargs["args"][2] == "unrescue"
    Instance.objects.filter(pk=instance.pk).update(vm_state=states.SHELVED_OFFLOADED, task_state=None, host=None)
    assert 'id="unshelve-form"' in client.get(page).content.decode()
    response = client.post(page + "unshelve/")  # no shelved image: refused with the reason
    assert "has no shelved image" in client.get(response["Location"]).content.decode()
