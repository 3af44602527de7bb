"""remote-consoles and os-getVNCConsole as an API client sees them, before any host is asked:
bad input 400, another project's server 404, a server that is not ACTIVE 409, a host whose
compute service is down 409, a host that does not answer 503. (URLs from a live host:
test_console_qemu.py.)"""
import pytest
from django.utils import timezone

from cloudproj.testing.servers import API, act, boot, error, make_active
from compute.models import Service
from compute.services import hosts
from consoles.models import ConsoleAuthToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


NOVNC = {"remote_console": {"protocol": "vnc", "type": "novnc"}}


@pytest.fixture
def server(member_client, image):
    return boot(member_client, image, "console-vm")["server"]["id"]


def remote(client, server_id, body, **headers):
    return client.post(f"{API}/servers/{server_id}/remote-consoles", body, format="json", **headers)


@pytest.mark.parametrize("body, words", [
    ({"remote_console": {"protocol": "spice", "type": "spice-html5"}}, "Unsupported console protocol 'spice'"),
    ({"remote_console": {"protocol": "vnc", "type": "xvpvnc"}}, "Unsupported console type 'xvpvnc'"),
    ({"remote_console": {"protocol": "vnc"}}, "'type' is a required property"),
    ({"remote_console": {"protocol": "vnc", "type": "novnc", "extra": 1}}, "additional properties"),
    ({"remote_console": {"protocol": 5, "type": "novnc"}}, "protocol must be a non-empty string"),
    ({"remote_console": "novnc"}, "must be an object"),
    ({"console": {}}, "'remote_console' is a required property"),
])
def test_bad_remote_console_bodies_are_400(member_client, server, body, words):
    make_active(server)
    assert words in error(remote(member_client, server, body), 400)
    assert not ConsoleAuthToken.objects.exists()


@pytest.mark.parametrize("value, words", [
    ({"type": "xvpvnc"}, "Unsupported console type 'xvpvnc'"),
    ({"type": ""}, "type must be a non-empty string"),
    ({}, "type must be a non-empty string"),
    ({"type": "novnc", "x": 1}, "additional properties"),
    ("novnc", "must be an object"),
])
def test_bad_os_get_vnc_console_is_400(member_client, server, value, words):
    make_active(server)
    assert words in error(act(member_client, server, {"os-getVNCConsole": value}), 400)


def test_another_projects_server_is_404(other_client, server):
    make_active(server)
    assert "could not be found" in error(remote(other_client, server, NOVNC), 404)
    assert "could not be found" in error(act(other_client, server, {"os-getVNCConsole": {"type": "novnc"}}), 404)


def test_a_server_that_is_not_active_is_409(member_client, server):
    message = error(remote(member_client, server, NOVNC), 409)
    assert message == f"Instance {server} is BUILD, not ACTIVE: its console is not available."
    assert "not ACTIVE" in error(act(member_client, server, {"os-getVNCConsole": {"type": "novnc"}}), 409)


def test_a_host_whose_compute_service_is_down_is_409(member_client, server):
    make_active(server, host="vnc-down-host")
    service = hosts.register_service("vnc-down-host", "nova-compute", "nova")
    Service.objects.filter(pk=service.pk).update(last_seen_up=timezone.now() - timezone.timedelta(hours=1))
    assert "compute service of host vnc-down-host is down" in error(remote(member_client, server, NOVNC), 409)


def test_a_host_that_does_not_answer_is_503(member_client, server, settings):
    """A live heartbeat but no agent consuming compute.vnc-silent-host (real broker, real wait)."""
    settings.HOST_CALL_TIMEOUT = 0.5
    make_active(server, host="vnc-silent-host")
    service = hosts.register_service("vnc-silent-host", "nova-compute", "nova")
    Service.objects.filter(pk=service.pk).update(last_seen_up=timezone.now())
    assert "did not answer within 0.5 seconds" in error(remote(member_client, server, NOVNC), 503)
    assert not ConsoleAuthToken.objects.exists()


def test_microversions(member_client, server):
    make_active(server)
    answer = remote(member_client, server, NOVNC, HTTP_OPENSTACK_API_VERSION="compute 2.6")
    assert answer.status_code == 409 and answer["OpenStack-API-Version"] == "compute 2.6"
    assert remote(member_client, server, NOVNC).status_code == 409  # no header: 2.1, this cloud's version
    assert "not supported" in error(remote(member_client, server, NOVNC, HTTP_OPENSTACK_API_VERSION="compute 2.99"), 406)
