"""Console tokens as the proxy sees them: stored as a SHA-256 only, refused when unknown,
expired (and then deleted), or when their instance is no longer ACTIVE on the same host.
(A token that passes these checks is then re-checked against its host's live VNC port: that
path needs an agent and a running guest, see test_console_qemu.py.)"""
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from cloudproj.testing.servers import boot, instance, make_active
from compute import states
from compute.services import instances as instance_service
from consoles.services import vnc
from consoles.models import ConsoleAuthToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


@pytest.fixture
def active(member_client, image):
    return make_active(boot(member_client, image, "console-vm")["server"]["id"], host="vnc-host-a")


def test_only_the_sha256_of_a_token_is_stored_and_it_lives_console_token_ttl(active, settings):
    settings.CONSOLE_TOKEN_TTL = 120
    before = timezone.now()
    token = vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907)
    row = ConsoleAuthToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert token not in str(list(ConsoleAuthToken.objects.values_list()))
    assert (row.instance_uuid, row.compute_host, row.host, row.port) == (active.uuid, "vnc-host-a", "127.0.0.1", 5907)
    assert before + timedelta(seconds=119) < row.expires_at <= timezone.now() + timedelta(seconds=120)
    assert len(token) >= 40 and vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907) != token


@pytest.mark.parametrize("token", ["", None, "not-a-token", "x" * 300])
def test_an_unknown_token_opens_nothing(active, token):
    vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907)
    with pytest.raises(vnc.ConsoleDenied):
        vnc.authorize(token)


def test_an_expired_token_is_refused_and_deleted_on_use(active):
    token = vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907)
    ConsoleAuthToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(vnc.ConsoleDenied, match="expired"):
        vnc.authorize(token)
    assert not ConsoleAuthToken.objects.exists()


@pytest.mark.parametrize("change", [
    {"vm_state": states.STOPPED, "power_state": 4},
    {"vm_state": states.SUSPENDED},
    {"host": "vnc-host-b"},
])
def test_a_token_of_an_instance_no_longer_active_on_its_host_is_refused(active, change):
    token = vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907)
    instance_service.update_state(active, **change)
    with pytest.raises(vnc.ConsoleDenied, match="no longer ACTIVE on its host"):
        vnc.authorize(token)


def test_a_token_of_a_deleted_instance_is_refused(active):
    token = vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907)
    instance_service.soft_delete(instance(active.uuid))
    with pytest.raises(vnc.ConsoleDenied):
        vnc.authorize(token)


def test_purge_removes_only_expired_tokens(active):
    from consoles.tasks import purge_expired_tokens

    keep = vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5907)
    vnc.issue_token(active, "vnc-host-a", "127.0.0.1", 5908)
    ConsoleAuthToken.objects.filter(port=5908).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert purge_expired_tokens() == 1
    assert list(ConsoleAuthToken.objects.values_list("token_hash", flat=True)) == [
        hashlib.sha256(keep.encode()).hexdigest()]


def test_the_beat_schedule_purges_console_tokens(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-console-tokens"]
    assert entry["task"] == "consoles.purge_expired_tokens" and entry["schedule"] > 0


def test_the_proxy_takes_the_token_from_the_query_or_a_cookie():
    """noVNC >= 1.1 sends ?token=; older noVNC and tempest's websocket client a `token` cookie."""
    from consoles.api.websockify import _token

    assert _token({"query_string": b"token=abc"}) == "abc"
    assert _token({"query_string": b"", "headers": [(b"host", b"x"), (b"cookie", b"token=xyz; other=1")]}) == "xyz"
    assert _token({"query_string": b"token=abc", "headers": [(b"cookie", b"token=xyz")]}) == "abc"
    assert _token({"query_string": b"", "headers": [(b"cookie", b"other=1")]}) is None
    assert _token({"query_string": b"", "headers": [(b"cookie", b"\x00bad")]}) is None


@pytest.mark.parametrize("base, websocket", [("http://127.0.0.1:18774", "vnc/websockify"),
                                             ("https://cloud.example.org/cloud/", "cloud/vnc/websockify")])
def test_the_console_url_names_its_websocket_as_novnc_pages_do(base, websocket):
    """Nova's console URLs carry noVNC's `path` (the websocket, from the host's root, with the
    token): tempest's test_novnc opens GET /<path> itself; the page keeps reading ?token=."""
    url = vnc.console_url(base, "tok/en+1")
    parts = urlsplit(url)
    assert url.startswith(f"{base.rstrip('/')}/vnc/?token=")
    query = parse_qs(parts.query)
    assert query["token"] == ["tok/en+1"]
    path, _, ws_query = query["path"][0].partition("?")
    assert path == websocket and f"/{path}".endswith(vnc.WEBSOCKET_PATH)
    assert parse_qs(ws_query)["token"] == ["tok/en+1"]
