"""Issue 18's actions on the instance page beyond migrate/evacuate (test_instance_migrate.py),
resize/rescue/shelve (test_instance_resize.py) and lock (test_aggregates_and_lock.py):
shelve-offload of a SHELVED server (admins) and the Diagnostics tab (admins). The messages to
the hosts are captured: no agent runs here, so the host's diagnostics answer is mocked."""
from unittest import mock

from compute import states
from compute.models import Instance

DIAGNOSTICS = {"cpu0_time": 17000000000, "memory": 262144, "vda_read": 4096}


def test_admin_offloads_a_shelved_server_from_the_page(admin, member, make_instance, django_capture_on_commit_callbacks):
    instance = make_instance(member["project"], member["user"], name="sh", vm_state=states.SHELVED, task_state=None,
                             host="host-a")
    page = f"/dashboard/instances/{instance.uuid}/"
    owner_html = member["client"].get(page).content.decode()
    assert 'id="unshelve-form"' in owner_html and 'id="shelve-offload-form"' not in owner_html
    response = member["client"].post(page + "shelve-offload/")
    assert response.status_code in (302, 403) and Instance.objects.get(pk=instance.pk).task_state is None

    client = admin["client"]
    assert 'id="shelve-offload-form"' in client.get(page).content.decode()
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "shelve-offload/")
    assert "Offloading sh" in client.get(response["Location"]).content.decode()
    assert send.call_args.kwargs["args"][2] == "shelveOffload"
    assert Instance.objects.get(pk=instance.pk).task_state == states.task.SHELVING_OFFLOADING
    Instance.objects.filter(pk=instance.pk).update(vm_state=states.SHELVED_OFFLOADED, task_state=None, host=None)
    html = client.get(page).content.decode()
    assert 'id="unshelve-form"' in html and 'id="shelve-offload-form"' not in html


def test_the_diagnostics_tab_is_for_admins(admin, member, make_instance):
    instance = make_instance(member["project"], member["user"], name="dg", vm_state=states.ACTIVE, task_state=None,
                             host="host-a")
    page = f"/dashboard/instances/{instance.uuid}/"
    owner_html = member["client"].get(page + "?tab=diagnostics").content.decode()
    assert 'id="tab-diagnostics"' not in owner_html and 'id="panel-overview"' in owner_html

    with mock.patch("cloudproj.rpc.server_diagnostics", return_value=DIAGNOSTICS) as asked:
        html = admin["client"].get(page + "?tab=diagnostics").content.decode()
    asked.assert_called_once_with("host-a", str(instance.uuid))
    assert 'id="tab-diagnostics"' in html and 'id="panel-diagnostics"' in html
    assert "<td>cpu0_time</td><td>17000000000</td>" in html and "<td>vda_read</td><td>4096</td>" in html

    with mock.patch("cloudproj.rpc.server_diagnostics", return_value={"error": "no domain on this host"}):
        html = admin["client"].get(page + "?tab=diagnostics").content.decode()
    assert 'id="diagnostics-problem"' in html and "no domain on this host" in html
    Instance.objects.filter(pk=instance.pk).update(vm_state=states.SHELVED_OFFLOADED, host=None)
    html = admin["client"].get(page + "?tab=diagnostics").content.decode()
    assert "while it has no host" in html
