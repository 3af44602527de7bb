"""Issue 20: the instance page's tabs (Overview, Log, Console, Action log), a running action's
progress read from its events, the serial-console hint (on the Console tab and on the noVNC page
itself), floating IP associate/disassociate from the page, and constant queries per tab."""
import datetime
from unittest import mock

import pytest
from django.utils import timezone

from cloudproj.testing.clients import logged_in

from compute.models import InstanceActionEvent
from compute.services import actions
from consoles.services import vnc
from floating.models import FloatingIP
from floating.services import ranges
from identity.services import accounts
from network.models import FixedIP
from network.services.networks import create_network

SERIAL = {"kernel_id": "k-1", "image_properties": {"os_command_line": "root=/dev/vda console=ttyS0"}}


def tabs_of(page: str) -> dict:
    """{tab id: aria-selected} of the page's tablist."""
    found = {}
    for chunk in page.split('role="tab" id="tab-')[1:]:
        key = chunk.split('"')[0]
        found[key] = chunk.split('aria-selected="')[1].split('"')[0]
    return found


def test_tabs_mark_the_selected_one_and_an_unknown_tab_is_the_overview(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="web-1")
    url = f"/dashboard/instances/{instance.uuid}/"
    page = member["client"].get(url).content.decode()
    assert tabs_of(page) == {"overview": "true", "log": "false", "console": "false", "actions": "false"}
    assert 'role="tabpanel" id="panel-overview" aria-labelledby="tab-overview"' in page
    log = member["client"].get(url + "?tab=log").content.decode()
    assert tabs_of(log)["log"] == "true" and 'hx-trigger="load, every 10s"' in log and 'id="overview-h"' not in log
    odd = member["client"].get(url + "?tab=%3Cscript%3E")
    assert odd.status_code == 200 and tabs_of(odd.content.decode())["overview"] == "true"


def test_running_resize_shows_its_steps_from_the_events(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="web-1", task_state="resize_migrating")
    action = actions.start_action(instance, "resize", request_id="req-r1", user_id=instance.user_id,
                                  project_id=instance.project_id)
    with actions.event(action, "compute_prep_resize"):
        pass
    running = actions.event_start(action, "compute_resize_instance", host="host-a")
    InstanceActionEvent.objects.filter(pk=running.pk).update(start_time=timezone.now() - datetime.timedelta(seconds=7))
    page = member["client"].get(f"/dashboard/instances/{instance.uuid}/?tab=console").content.decode()
    box = page.split('id="action-progress"')[1].split("</div>")[0]
    assert "resize</strong> in progress: step 2 of 3 (compute_resize_instance, running for 7 s)" in box
    assert 'max="3" value="1"' in box and 'aria-label="Progress of resize of web-1"' in box
    assert "compute_finish_resize: waiting" in box
    assert 'data-busy="true"' in page and "hx-select=\"#instance-head\"" in page  # the head refreshes itself
    actions.event_finish(running)
    instance.task_state = None
    instance.save(update_fields=["task_state"])
    settled = member["client"].get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    assert 'id="action-progress"' not in settled and 'data-busy="false"' in settled


def test_serial_console_guest_says_so_on_its_console_tab_and_vnc_page(member, make_instance, client):
    serial = make_instance(member["project"], member["user"], name="tiny", **SERIAL)
    screen = make_instance(member["project"], member["user"], name="desktop",
                           kernel_id="k-1", image_properties={"os_command_line": "console=tty0 console=ttyS0"})
    page = member["client"].get(f"/dashboard/instances/{serial.uuid}/?tab=console").content.decode()
    assert "This guest's console is serial" in page and 'href="?tab=log"' in page
    other = member["client"].get(f"/dashboard/instances/{screen.uuid}/?tab=console").content.decode()
    assert "console is serial" not in other and 'id="vnc-' in other

    token = vnc.issue_token(serial, "host-a", "127.0.0.1", 5900)
    vnc_page = client.get(f"/vnc/?token={token}").content.decode()
    assert "This guest's console is serial" in vnc_page and f"/dashboard/instances/{serial.uuid}/?tab=log" in vnc_page
    token = vnc.issue_token(screen, "host-a", "127.0.0.1", 5901)
    assert "console is serial" not in client.get(f"/vnc/?token={token}").content.decode()


@pytest.fixture
def netadmin_member(make_account, role):
    user, project, _token = make_account("demo", "member", username="demo-net")
    accounts.assign_role(user, role("netadmin"), project)
    return {"user": user, "project": project, "client": logged_in("demo-net")}


def test_floating_ip_associate_and_disassociate_come_back_to_the_page(netadmin_member, make_instance,
                                                                      django_capture_on_commit_callbacks):
    member = netadmin_member
    client = member["client"]
    instance = make_instance(member["project"], member["user"], name="web-1")
    url = f"/dashboard/instances/{instance.uuid}/"
    assert 'id="associate-form"' not in client.get(url).content.decode()  # no fixed address: nothing to point at
    network = create_network("tabnet", "10.245.1.0/28", bridge="cptdsh2")
    fixed = FixedIP.objects.filter(network=network, reserved=False).order_by("id").first()
    FixedIP.objects.filter(pk=fixed.pk).update(instance_uuid=instance.uuid, allocated=True, host="host-a")
    ranges.create_range("203.0.113.8/30", pool="nova")
    with mock.patch("cloudproj.rpc.app.send_task"):
        client.post("/dashboard/floating-ips/allocate/", {"pool": "nova"})
    row = FloatingIP.objects.get(project=member["project"])
    page = client.get(url).content.decode()
    form = page.split('id="associate-form"')[1].split("</form>")[0]
    assert f"<option>{row.address}</option>" in form
    with mock.patch("cloudproj.rpc.app.send_task"), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboard/floating-ips/associate/",
                               {"address": row.address, "instance": str(instance.uuid), "next": url})
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert f"{row.address} now points at web-1." in page and f"{row.address} (floating)" in page
    assert f'data-confirm="Disassociate {row.address} from web-1?"' in page
    with mock.patch("cloudproj.rpc.app.send_task"):
        response = client.post(f"/dashboard/floating-ips/{row.address}/disassociate/", {"next": url})
    assert response["Location"] == url
    row.refresh_from_db()
    assert row.instance_uuid is None


def test_instance_tabs_queries_do_not_grow(member, make_instance, django_assert_max_num_queries):
    instance = make_instance(member["project"], member["user"], name="web-1")
    url = f"/dashboard/instances/{instance.uuid}/"

    def add(n):
        for i in range(n):
            action = actions.start_action(instance, "reboot", request_id=f"req-{i}-{timezone.now().timestamp()}",
                                          user_id=instance.user_id, project_id=instance.project_id)
            with actions.event(action, "compute_reboot"):
                pass
            actions.finish_action(action)

    add(1)
    counts = {}
    for tab in ("overview", "log", "console", "actions"):
        with django_assert_max_num_queries(40) as few:
            assert member["client"].get(f"{url}?tab={tab}").status_code == 200
        counts[tab] = len(few.captured_queries)
    add(30)
    for tab, count in counts.items():
        with django_assert_max_num_queries(count):
            page = member["client"].get(f"{url}?tab={tab}").content.decode()
    assert page.count("<strong>reboot</strong>") == 31
