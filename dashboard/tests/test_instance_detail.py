"""One instance's page: overview, addresses, the action timeline with each step's result and
the fault's reason, and the console log read from the host through cloudproj/rpc.py."""
from unittest import mock

from celery.exceptions import TimeoutError as CeleryTimeout

from compute.services import actions


def _failed_build(instance, ctx_request_id="req-dash-1"):
    action = actions.start_action(instance, "create", request_id=ctx_request_id,
                                  user_id=instance.user_id, project_id=instance.project_id)
    with actions.event(action, "schedule"):
        pass
    try:
        with actions.event(action, "spawn", host="host-a"):
            raise RuntimeError("libvirt said no: domain definition failed")
    except RuntimeError as exc:
        actions.record_fault(instance, "No valid host was found. RamFilter removed 2 of 2 hosts", code=500)
        del exc
    actions.finish_action(action)
    return action


def test_detail_shows_overview_timeline_and_the_faults_reason(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="broken", vm_state="error", power_state=0)
    _failed_build(instance)
    html = member["client"].get(f"/dashboard/instances/{instance.uuid}/?tab=actions").content.decode()
    assert "broken" in html and "ERROR" in html
    assert "No valid host was found. RamFilter removed 2 of 2 hosts" in html
    timeline = html[html.index('id="timeline"'):]
    assert "create" in timeline and "req-dash-1" in timeline
    assert timeline.index(">schedule<") < timeline.index(">spawn<")
    assert "Success" in timeline and "Error" in timeline and " s</td>" in timeline
    # the traceback and host are the admin's (compute:instance_actions:events), as in the API
    assert "Traceback" not in html and "on host-a" not in timeline


def test_admin_sees_the_steps_traceback(admin, member, make_instance):
    instance = make_instance(member["project"], member["user"], name="broken", vm_state="error")
    _failed_build(instance)
    html = admin["client"].get(f"/dashboard/instances/{instance.uuid}/?tab=actions").content.decode()
    assert "Traceback" in html and "libvirt said no" in html and "on host-a" in html


def test_console_log_comes_from_the_host_through_rpc(member, make_instance, settings):
    instance = make_instance(member["project"], member["user"], name="con")
    result = mock.Mock()
    result.get.return_value = "Booting\x07 the guest\nCLOUDPROJ-BOOT-OK\n"
    with mock.patch("cloudproj.rpc.app.send_task", return_value=result) as send:
        response = member["client"].get(f"/dashboard/instances/{instance.uuid}/console/?lines=50")
    assert response.status_code == 200
    html = response.content.decode()
    assert "CLOUDPROJ-BOOT-OK" in html and "\x07" not in html and "Booting the guest" in html
    assert send.call_args.args[0] == "compute.get_console_output"
    assert send.call_args.kwargs["args"] == [str(instance.uuid), 50]
    assert send.call_args.kwargs["queue"].endswith("host-a")


def test_console_lines_are_capped(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="con")
    result = mock.Mock()
    result.get.return_value = "x\n"
    with mock.patch("cloudproj.rpc.app.send_task", return_value=result) as send:
        member["client"].get(f"/dashboard/instances/{instance.uuid}/console/?lines=999999")
    assert send.call_args.kwargs["args"][1] == 1000


def test_a_host_that_does_not_answer_is_a_readable_message(member, make_instance, settings):
    settings.HOST_CALL_TIMEOUT = 0.1
    instance = make_instance(member["project"], member["user"], name="con")
    result = mock.Mock()
    result.get.side_effect = CeleryTimeout()
    with mock.patch("cloudproj.rpc.app.send_task", return_value=result):
        response = member["client"].get(f"/dashboard/instances/{instance.uuid}/console/")
    assert response.status_code == 200
    assert "Host host-a did not answer within 0.1 seconds; try again later." in response.content.decode()


def test_an_instance_without_host_has_no_console_request(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="new", host=None, vm_state="building")
    assert b"has no host yet" in member["client"].get(f"/dashboard/instances/{instance.uuid}/?tab=log").content
    response = member["client"].get(f"/dashboard/instances/{instance.uuid}/console/")
    assert response.status_code == 200 and b"while it is in vm_state building" in response.content


def test_unknown_instance_is_a_404_page(member):
    response = member["client"].get("/dashboard/instances/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404 and b"could not be found" in response.content
