"""The websocket half of the console proxy (websockify): an ASGI app for /vnc/websockify.

A browser's noVNC connects with ?token=...; the token is checked (vnc.authorize: its
hash, its expiry, its instance still ACTIVE on the same host with the same live VNC port),
then bytes are pumped both ways between binary websocket frames and the guest's VNC server
over TCP. A refused token closes the handshake (HTTP 403): no byte of any VNC server is sent.
So does a browser page of another site (its Origin is neither this site's host nor one of
CONSOLE_ALLOWED_ORIGINS), as Nova's proxy checks it.
"""
import asyncio
import logging
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from consoles.services import vnc

log = logging.getLogger(__name__)

SUBPROTOCOL = "binary"  # what noVNC asks for
READ_CHUNK = 64 * 1024
CONNECT_TIMEOUT = 10.0
POLICY_VIOLATION = 1008
SERVER_ERROR = 1011


def _authorize(token):
    close_old_connections()
    try:
        return vnc.authorize(token)
    finally:
        close_old_connections()


def _token(scope) -> str | None:
    """?token=..., else a `token` cookie (what noVNC before 1.1 and tempest send; Nova's proxy
    reads both)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    if values:
        return values[0]
    for name, value in scope.get("headers") or []:
        if name.lower() == b"cookie":
            cookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except CookieError:
                continue
            if "token" in cookie:
                return cookie["token"].value
    return None


def _hostname(value: str) -> str:
    try:
        return (urlsplit(value if "//" in value else f"//{value}").hostname or "").lower()
    except ValueError:  # a malformed header names no host
        return ""


def _origin_refused(scope) -> str | None:
    """Why a browser's Origin may not open a console (None: allowed, or not a browser)."""
    headers = {name.lower(): value.decode("latin-1") for name, value in scope.get("headers") or []}
    origin = headers.get(b"origin")
    if origin is None:
        return None  # not a browser page: the token is the credential
    allowed = {_hostname(headers.get(b"host", "")), *(name.lower() for name in settings.CONSOLE_ALLOWED_ORIGINS)}
    if _hostname(origin) in allowed - {""}:
        return None
    return f"origin {origin[:80]!r} is not allowed"


async def websockify(scope, receive, send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    refused = _origin_refused(scope)
    if refused:
        log.info("console connection refused: %s", refused)
        await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": refused[:120]})
        return
    try:
        host, port = await sync_to_async(_authorize, thread_sensitive=False)(_token(scope))
    except vnc.ConsoleDenied as exc:
        log.info("console connection refused: %s", exc)
        await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": str(exc)[:120]})
        return
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
    except (TimeoutError, OSError) as exc:
        log.warning("console proxy could not reach VNC server %s:%s: %s", host, port, exc)
        await send({"type": "websocket.close", "code": SERVER_ERROR, "reason": "the VNC server did not answer"})
        return
    accept = {"type": "websocket.accept"}
    if SUBPROTOCOL in (scope.get("subprotocols") or []):
        accept["subprotocol"] = SUBPROTOCOL
    await send(accept)
    log.info("console proxy connected to %s:%s", host, port)
    try:
        await _pump(receive, send, reader, writer)
    finally:
        writer.close()


async def _pump(receive, send, reader, writer) -> None:
    async def client_to_server():
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:  # a text frame: not part of the binary protocol
                data = (message.get("text") or "").encode()
            writer.write(data)
            await writer.drain()

    async def server_to_client():
        while True:
            data = await reader.read(READ_CHUNK)
            if not data:
                await send({"type": "websocket.close", "code": 1000, "reason": "the VNC server closed the connection"})
                return
            await send({"type": "websocket.send", "bytes": data})

    tasks = [asyncio.ensure_future(client_to_server()), asyncio.ensure_future(server_to_client())]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None and not isinstance(task.exception(), (OSError, ConnectionError)):
                log.warning("console proxy stopped: %r", task.exception())
    finally:
        for task in tasks:
            task.cancel()
