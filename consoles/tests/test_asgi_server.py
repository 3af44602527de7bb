"""The API + dashboard under cloudproj.asgi (gunicorn + uvicorn worker, as `make run` serves
them) behave as they did under WSGI where the server matters: an image upload streams to the
store whether it comes with a Content-Length or chunked, a body cut off half-way kills the
image, the dashboard and the compute API answer, a websocket anywhere but /vnc/websockify is
refused."""
import hashlib
import json
import socket
import time
import urllib.request
from urllib.parse import urlparse

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from images.services import registry
from images.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def _put(base: str, token: str, image_id, head: str, body_parts, shut=False) -> str:
    url = urlparse(base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall((f"PUT /image/v2/images/{image_id}/file HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
                      f"Connection: close\r\n{head}\r\n").encode())
        for part in body_parts:
            sock.sendall(part)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer.decode(errors="replace")


@pytest.mark.parametrize("chunked", [False, True])
def test_image_upload_streams_through_the_asgi_server(asgi_api, admin_account, chunked):
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    image = registry.create_image("asgi-upload", "raw", "bare", owner=admin_account[1])
    if chunked:
        parts = [b"%x\r\n%s\r\n" % (len(data[i:i + 100000]), data[i:i + 100000]) for i in range(0, len(data), 100000)]
        answer = _put(asgi_api, admin_account[2], image.id, "Transfer-Encoding: chunked\r\n", [*parts, b"0\r\n\r\n"])
    else:
        answer = _put(asgi_api, admin_account[2], image.id, f"Content-Length: {len(data)}\r\n", [data])
    assert " 204 " in answer.splitlines()[0], answer
    stored = Image.objects.get(id=image.id)
    assert stored.status == "active" and stored.size == len(data)
    assert stored.checksum == hashlib.md5(data).hexdigest()


def test_an_upload_cut_off_by_the_client_kills_the_image(asgi_api, admin_account):
    image = registry.create_image("asgi-cut", "raw", "bare", owner=admin_account[1])
    _put(asgi_api, admin_account[2], image.id, f"Content-Length: {10 * 1024 * 1024}\r\n", [b"x" * 262144],
         shut=True)
    deadline = time.monotonic() + 30
    while Image.objects.get(id=image.id).status in ("queued", "saving") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Image.objects.get(id=image.id).status == "killed"


def test_pages_and_api_answer_and_other_websockets_are_refused(asgi_api, admin_account):
    request = urllib.request.Request(f"{asgi_api}/compute/v2.1/flavors", headers={"X-Auth-Token": admin_account[2]})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200 and "flavors" in json.loads(response.read())
    with urllib.request.urlopen(f"{asgi_api}/dashboard/login/", timeout=30) as response:
        assert response.status == 200 and 'id="id_username"' in response.read().decode()
    with pytest.raises(InvalidStatus) as answer, \
            connect(asgi_api.replace("http://", "ws://") + "/dashboard/", open_timeout=30):
        pass
    assert answer.value.response.status_code == 403
