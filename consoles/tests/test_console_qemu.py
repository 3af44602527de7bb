"""End to end with a real guest: the test image booted by the scheduler and an agent on
libvirt/QEMU, the API served by gunicorn with a uvicorn worker (cloudproj.asgi, as `make run`
does), the real `openstack` client. `openstack console url show` hands out a noVNC URL whose
token opens the guest's VNC server through /vnc/websockify (QEMU's RFB banner arrives over
the websocket); a wrong, expired, or stopped guest's token, or another site's page, gets no
connection."""
import hashlib
import json
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from cloudproj.testing.real_guest import real_guest_cloud
from consoles.models import ConsoleAuthToken

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "vnc-host"
BRIDGE = "cptvnc0"
CIDR = "10.247.0.0/24"
ID_START = 0x247000
RFB_VERSION = b"RFB 003.008\n"


@pytest.fixture
def fast_password_hashing():
    """Off: the ASGI server process checks passwords with the default hashers."""


@pytest.fixture
def vnc_cloud(settings, tmp_path, admin_account, osc):
    with real_guest_cloud(settings, tmp_path, osc, label="vncnet", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=ID_START) as env:
        yield env


def websocket_url(base: str, token: str) -> str:
    return base.replace("http://", "ws://") + f"/vnc/websockify?token={token}"


def refused(base: str, token: str, **options) -> int:
    with pytest.raises(InvalidStatus) as answer, \
            connect(websocket_url(base, token), subprotocols=["binary"], open_timeout=30, **options):
        pass
    return answer.value.response.status_code


def remote_console(base: str, keystone_token: str, server_id: str, **headers) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/compute/v2.1/servers/{server_id}/remote-consoles", method="POST",
        data=json.dumps({"remote_console": {"protocol": "vnc", "type": "novnc"}}).encode(),
        headers={"X-Auth-Token": keystone_token, "Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_console_url_opens_the_guests_vnc_server_through_the_websocket_proxy(vnc_cloud, osc, asgi_api):
    server = osc("server", "create", "--image", "cloudproj-test", "--flavor", "m1.tiny", "--wait", "vm1")
    assert server["status"] == "ACTIVE"

    # what the real client prints (it sends os-getVNCConsole: this cloud's compute API is 2.1)
    console = osc("console", "url", "show", "vm1")
    assert console["type"] == "novnc"
    assert console["url"].startswith(f"{asgi_api}/vnc/?token=")
    token = parse_qs(urlsplit(console["url"]).query)["token"][0]
    row = ConsoleAuthToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert str(row.instance_uuid) == server["id"] and row.compute_host == HOST and row.port >= 5900
    with urllib.request.urlopen(console["url"], timeout=30) as page:
        html = page.read().decode()
    assert page.status == 200 and "consoles/vnc.js" in html and "Connecting" in html

    # a page of another site may not open it, even with the token (Nova's allowed_origins)
    assert refused(asgi_api, token, origin="http://evil.example.org") == 403
    # the proxy, from this site's page: QEMU's VNC server speaks first, then answers the client's
    # version with its security types (1 = None: the guest's VNC server listens on the host's
    # loopback only)
    with connect(websocket_url(asgi_api, token), subprotocols=["binary"], open_timeout=60, origin=asgi_api) as ws:
        assert ws.subprotocol == "binary"
        assert ws.recv(timeout=30) == RFB_VERSION
        ws.send(RFB_VERSION)
        types = ws.recv(timeout=30)
        assert types[0] >= 1 and 1 in types[1:1 + types[0]]

    # behind a reverse proxy (TLS ended there, its Host passed on) the URL is the proxy's
    keystone_token = osc("token", "issue")["id"]
    status, body = remote_console(asgi_api, keystone_token, server["id"],
                                  Host="cloud.example.org", **{"X-Forwarded-Proto": "https"})
    assert status == 200, body
    assert body["remote_console"]["protocol"] == "vnc" and body["remote_console"]["type"] == "novnc"
    assert body["remote_console"]["url"].startswith("https://cloud.example.org/vnc/?token=")
    second = parse_qs(urlsplit(body["remote_console"]["url"]).query)["token"][0]

    # no connection for a wrong token, nor for an expired one (which is then gone)
    assert refused(asgi_api, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == 403
    ConsoleAuthToken.objects.filter(token_hash=hashlib.sha256(second.encode()).hexdigest()).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert refused(asgi_api, second) == 403
    assert ConsoleAuthToken.objects.count() == 1

    # a stopped guest: its token opens nothing, and no new console is handed out (409)
    osc("server", "stop", "vm1", raw=True)
    deadline = time.monotonic() + 120
    while osc("server", "show", "vm1")["status"] != "SHUTOFF":
        assert time.monotonic() < deadline, "vm1 did not stop"
        time.sleep(1)
    assert refused(asgi_api, token) == 403
    status, body = remote_console(asgi_api, keystone_token, server["id"])
    assert status == 409 and "is SHUTOFF, not ACTIVE" in body["conflictingRequest"]["message"]
