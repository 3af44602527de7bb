"""Console tokens: made for one ACTIVE instance's VNC server, checked when the proxy connects.

    create_vnc_console(ctx, instance, console_type="novnc", protocol="vnc") -> token (plain, once)
    issue_token(instance, compute_host, address, port) -> token (what create does once the host answered)
    console_url(base, token) -> the noVNC page URL handed to users
    authorize(token) -> (host, port) of the VNC server, or ConsoleDenied
    purge_expired() -> number of deleted tokens

Where the VNC server listens is only known to the instance's host (autoport): its agent is
asked (compute.get_vnc_console) when a token is made, and again when the token is used, so a
token whose guest was restarted onto another port (that another guest may now hold) opens
nothing.
"""
import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils import timezone

from cloudproj import rpc
from compute import states
from compute.models import Instance
from cloudproj.exceptions import CloudError, Conflict, Invalid, NotFound
from compute.services.operations import compute_is_up

from consoles.models import ConsoleAuthToken, hash_console_token

PROTOCOLS = {"vnc": ("novnc",)}  # protocol -> console types this cloud serves
LEGACY_TYPES = ("novnc",)  # os-getVNCConsole types (xvpvnc needs Nova's Java proxy: not served)
PAGE_PATH = "/vnc/"
WEBSOCKET_PATH = "/vnc/websockify"


class ConsoleDenied(Exception):
    """A token that opens nothing (unknown, expired, or its instance moved on)."""


def check_console_type(protocol, console_type) -> None:
    if protocol not in PROTOCOLS:
        raise Invalid(f"Unsupported console protocol {protocol!r}: this cloud serves vnc only.")
    if console_type not in PROTOCOLS[protocol]:
        served = ", ".join(PROTOCOLS[protocol])
        raise Invalid(f"Unsupported console type {console_type!r} for protocol {protocol}: use {served}.")


def _require_active(instance: Instance) -> str:
    if instance.vm_state != states.ACTIVE or not instance.host:
        status = states.api_status(instance.vm_state, instance.task_state)
        raise Conflict(f"Instance {instance.uuid} is {status}, not ACTIVE: its console is not available.")
    return instance.host


def _ask_host(instance: Instance, host: str) -> tuple[str, int]:
    """(address, port) of the instance's live VNC server, from its host's agent."""
    if not compute_is_up(host):
        raise Conflict(f"The compute service of host {host} is down: the console of {instance.uuid} is not available.")
    answer = rpc.vnc_console(host, str(instance.uuid))  # ServiceUnavailable (503) if no answer in time
    if not isinstance(answer, dict) or "port" not in answer:
        reason = answer.get("error") if isinstance(answer, dict) else None
        raise Conflict(reason or f"Host {host} reported no VNC server for instance {instance.uuid}.")
    return str(answer["host"]), int(answer["port"])


def create_vnc_console(ctx, instance: Instance, console_type: str = "novnc", protocol: str = "vnc") -> str:
    """A new token for the console of `instance` (ACTIVE, on a host that answers); the plain
    token is returned once and only its hash is stored."""
    check_console_type(protocol, console_type)
    host = _require_active(instance)
    address, port = _ask_host(instance, host)
    return issue_token(instance, host, address, port, console_type)


def issue_token(instance: Instance, compute_host: str, address: str, port: int, console_type: str = "novnc") -> str:
    """Store the hash of a new token for the VNC server at address:port of `instance` on
    `compute_host`, valid CONSOLE_TOKEN_TTL seconds; the token itself is returned once."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    ConsoleAuthToken.objects.create(
        token_hash=hash_console_token(token), instance_uuid=instance.uuid, compute_host=compute_host,
        host=address, port=port, console_type=console_type, created_at=now,
        expires_at=now + timedelta(seconds=settings.CONSOLE_TOKEN_TTL),
    )
    return token


def console_url(base: str, token: str) -> str:
    """The noVNC page of a token under the cloud's public base URL. Its `path` parameter names
    the websocket (from the host's root, with the token), as Nova's URLs do for noVNC's pages:
    clients that open the websocket themselves (tempest's test_novnc) read it."""
    base = base.rstrip("/")
    websocket = f"{urlsplit(base).path}{WEBSOCKET_PATH}".lstrip("/") + "?" + urlencode({"token": token})
    return f"{base}{PAGE_PATH}?{urlencode({'token': token, 'path': websocket})}"


def authorize(token) -> tuple[str, int]:
    """(host, port) the proxy may connect to for `token`, or ConsoleDenied saying why."""
    if not isinstance(token, str) or not token or len(token) > 256:
        raise ConsoleDenied("no console token")
    row = ConsoleAuthToken.objects.filter(token_hash=hash_console_token(token)).first()
    if row is None:
        raise ConsoleDenied("invalid console token")
    if row.is_expired:
        row.delete()
        raise ConsoleDenied("the console token has expired")
    instance = Instance.objects.filter(uuid=row.instance_uuid).first()
    if instance is None or instance.vm_state != states.ACTIVE or instance.host != row.compute_host:
        raise ConsoleDenied("the instance of this console token is no longer ACTIVE on its host")
    try:
        live = _ask_host(instance, row.compute_host)
    except CloudError as exc:
        raise ConsoleDenied(exc.message) from None
    if live != (row.host, row.port):
        raise ConsoleDenied("the instance's console moved (it was restarted): ask for a new console")
    return row.host, row.port


def token_details(token: str) -> ConsoleAuthToken:
    """The live token's record (os-console-auth-tokens); NotFound for an unknown or expired one."""
    row = ConsoleAuthToken.objects.filter(token_hash=hash_console_token(token),
                                          expires_at__gt=timezone.now()).first()
    if row is None:
        raise NotFound("The token does not exist or has expired.")
    return row


def purge_expired() -> int:
    deleted, _ = ConsoleAuthToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted

