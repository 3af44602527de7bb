"""The dashboard's "VNC console" action and the console page, as a logged-in browser (Django's
test client) sees them before any host is asked: the button on ACTIVE rows only, readable
refusals, another project's instance 404; the page says whether its token is live. (With a
live host and guest: test_console_browser.py.)"""
import pytest

from consoles.services import vnc

pytestmark = pytest.mark.django_db


def test_the_button_is_on_active_rows_and_pages_only(member, make_instance):
    active = make_instance(member["project"], member["user"], name="up")
    building = make_instance(member["project"], member["user"], name="coming", vm_state="building",
                             task_state="scheduling", host=None)
    page = member["client"].get("/dashboard/instances/").content.decode()
    assert f'id="vnc-{active.uuid}"' in page and f'id="vnc-{building.uuid}"' not in page
    assert f'action="/dashboard/instances/{active.uuid}/vnc/"' in page and 'target="_blank"' in page
    assert f'id="vnc-{active.uuid}"' in member["client"].get(f"/dashboard/instances/{active.uuid}/").content.decode()
    assert "VNC console" not in member["client"].get(f"/dashboard/instances/{building.uuid}/").content.decode()


def test_a_stopped_instance_gets_a_readable_409(member, make_instance):
    stopped = make_instance(member["project"], member["user"], name="off", vm_state="stopped", power_state=4)
    response = member["client"].post(f"/dashboard/instances/{stopped.uuid}/vnc/")
    assert response.status_code == 409
    assert f"Instance {stopped.uuid} is SHUTOFF, not ACTIVE: its console is not available." in response.content.decode()


def test_a_host_whose_compute_service_is_down_is_a_readable_409(member, make_instance):
    instance = make_instance(member["project"], member["user"], name="hostless", host="vnc-nowhere")
    response = member["client"].post(f"/dashboard/instances/{instance.uuid}/vnc/")
    assert response.status_code == 409
    assert "The compute service of host vnc-nowhere is down" in response.content.decode()


def test_another_projects_instance_is_404_and_get_is_not_allowed(member, other, make_instance):
    instance = make_instance(member["project"], member["user"], name="mine")
    assert other["client"].post(f"/dashboard/instances/{instance.uuid}/vnc/").status_code == 404
    assert member["client"].get(f"/dashboard/instances/{instance.uuid}/vnc/").status_code == 405


def test_the_console_page_needs_a_live_token_and_keeps_it_to_itself(client, member, make_instance):
    instance = make_instance(member["project"], member["user"], name="shown")
    token = vnc.issue_token(instance, "host-a", "127.0.0.1", 5900)
    page = client.get(f"/vnc/?token={token}")  # no login: the token is the credential
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/consoles/vnc.js" in html and 'type="module"' in html and "Connecting" in html
    assert "<title>VNC console (noVNC)</title>" in html  # the client it runs (tempest's test_novnc looks for it)
    assert page["Referrer-Policy"] == "no-referrer" and page["Cache-Control"] == "no-store"
    for bad in ("", "?token=", f"?token={token}x"):
        refused = client.get(f"/vnc/{bad}")
        assert refused.status_code == 404
        assert "This console link is invalid or has expired" in refused.content.decode()
        assert "vnc.js" not in refused.content.decode()
