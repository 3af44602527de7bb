"""The real OpenStack client against a live server."""
import pytest

from images.services import registry

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_openstack_image_list_and_show(osc, admin_account, raw_file):
    image = registry.register_image(raw_file, "cirros-like", "raw", visibility="public",
                                     properties={"architecture": "x86_64"})
    listed = osc("image", "list")
    assert [(row["ID"], row["Name"], row["Status"]) for row in listed] == [(str(image.id), "cirros-like", "active")]
    shown = osc("image", "show", "cirros-like")
    assert shown["id"] == str(image.id)
    assert shown["checksum"] == image.checksum
    assert shown["size"] == raw_file.stat().st_size
    assert shown["disk_format"] == "raw" and shown["visibility"] == "public"
    shown_by_id = osc("image", "show", str(image.id))
    assert shown_by_id["name"] == "cirros-like"


def test_openstack_image_create_save_set_delete(osc, admin_account, qcow2_file, tmp_path):
    import hashlib
    import subprocess

    # some data in the qcow2, so that its bytes are not all metadata
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 3M", str(qcow2_file)],
                   check=True, capture_output=True)
    data = qcow2_file.read_bytes()
    created = osc("image", "create", "--file", str(qcow2_file), "--disk-format", "qcow2",
                  "--container-format", "bare", "--property", "architecture=x86_64", "img")
    assert created["status"] == "active", created
    assert created["size"] == len(data)
    assert created["checksum"] == hashlib.md5(data).hexdigest()
    shown = osc("image", "show", "img")
    assert shown["properties"]["os_hash_algo"] == "sha256"  # the client lists them with the properties
    assert shown["properties"]["os_hash_value"] == hashlib.sha256(data).hexdigest()
    assert shown["properties"]["architecture"] == "x86_64"

    out = tmp_path / "saved.qcow2"
    osc("image", "save", "--file", str(out), "img", raw=True)
    assert out.read_bytes() == data

    osc("image", "set", "--property", "hypervisor_type=qemu", "--min-ram", "64", "--protected", "img", raw=True)
    shown = osc("image", "show", "img")
    assert shown["properties"]["hypervisor_type"] == "qemu" and shown["min_ram"] == 64 and shown["protected"]
    refused = osc("image", "delete", "img", check=False)
    assert refused.returncode != 0
    assert osc("image", "show", "img")["status"] == "active"
    osc("image", "set", "--unprotected", "img", raw=True)
    osc("image", "delete", "img", raw=True)
    assert osc("image", "list") == []


def test_openstack_refuses_a_qcow2_with_a_backing_file(osc, admin_account, tmp_path):
    import subprocess

    backing = tmp_path / "host-file"
    backing.write_bytes(b"secret" * 1000)
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(backing), str(evil)],
                   check=True)
    proc = osc("image", "create", "--file", str(evil), "--disk-format", "qcow2", "--container-format", "bare",
               "evil", check=False)
    assert proc.returncode != 0
    assert "400" in proc.stderr and "backing file" in proc.stderr, proc.stderr
    statuses = [row["Status"] for row in osc("image", "list")]
    assert "active" not in statuses


def test_openstack_image_members(osc, admin_account, make_account, raw_file):
    make_account("demo", "member", username="demo-user")
    _, other, _ = make_account("other", "member", username="other-user")
    osc("image", "create", "--file", str(raw_file), "--disk-format", "raw", "--container-format", "bare",
        "--shared", "offered", user="demo-user", project="demo")
    as_other = {"user": "other-user", "project": "other"}
    assert [row["Name"] for row in osc("image", "list", **as_other)] == []
    osc("image", "add", "project", "offered", other.id, user="demo-user", project="demo")
    members = osc("image", "member", "list", "offered", user="demo-user", project="demo")
    assert [(m["Member ID"], m["Status"]) for m in members] == [(other.id, "pending")]
    image_id = osc("image", "show", "offered", user="demo-user", project="demo")["id"]
    osc("image", "set", "--accept", image_id, raw=True, **as_other)
    assert [row["Name"] for row in osc("image", "list", **as_other)] == ["offered"]
    osc("image", "remove", "project", "offered", other.id, raw=True, user="demo-user", project="demo")
    assert osc("image", "show", image_id, check=False, **as_other).returncode != 0


def test_upload_cut_off_by_the_client_kills_the_image(live_server, admin_account):
    """A real HTTP connection that closes half-way through its declared body."""
    import json
    import socket
    import time
    from urllib.parse import urlparse

    from images.models import Image

    image = registry.create_image("cut", "raw", "bare", owner=admin_account[1])
    url = urlparse(live_server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall((f"PUT /image/v2/images/{image.id}/file HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      f"X-Auth-Token: {admin_account[2]}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: {10 * 1024 * 1024}\r\n\r\n").encode())
        sock.sendall(b"x" * (256 * 1024))
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        answer = answer.decode(errors="replace")
    assert " 400 " in answer.splitlines()[0], answer
    assert "did not complete" in json.loads(answer.split("\r\n\r\n", 1)[1])["badRequest"]["message"]
    deadline = time.monotonic() + 5
    while Image.objects.get(id=image.id).status == "saving" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Image.objects.get(id=image.id).status == "killed"


def test_openstack_image_create_from_stdin(live_server, admin_account, raw_file):
    """Without --file the client uploads its standard input."""
    import hashlib
    import json
    import os
    import subprocess

    from cloudproj.testing.osc import OPENSTACK_BIN

    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
        "OS_AUTH_URL": f"{live_server.url}/identity", "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": "admin", "OS_PASSWORD": "secret-pass", "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_INTERFACE": "public",
    }
    with open(raw_file, "rb") as stdin:
        proc = subprocess.run([OPENSTACK_BIN, "image", "create", "--disk-format", "raw", "--container-format",
                               "bare", "piped", "-f", "json"], stdin=stdin, env=env, capture_output=True,
                              text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    data = raw_file.read_bytes()
    assert created["status"] == "active" and created["size"] == len(data)
    assert created["checksum"] == hashlib.md5(data).hexdigest()


def _send_chunked(host: str, port: int, image_id, token: str, payload: bytes) -> str:
    import socket

    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall((f"PUT /image/v2/images/{image_id}/file HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
                      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode())
        for i in range(0, len(payload), 100_000):
            piece = payload[i:i + 100_000]
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.decode(errors="replace")


def test_chunked_upload_through_gunicorn(live_server, admin_account, settings, tmp_path):
    """gunicorn (the production server) decodes chunked bodies; the upload streams through."""
    import hashlib
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from cloudproj.testing.cloud import database_url
    from images.models import Image

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**__import__("os").environ, "DATABASE_URL": database_url(),
           "IMAGE_STORE_PATH": str(settings.IMAGE_STORE_PATH)}
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}",
                               "--workers", "1", "cloudproj.wsgi"], cwd=root, env=env,
                              stdout=open(tmp_path / "gunicorn.log", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        image = registry.create_image("chunked", "raw", "bare", owner=admin_account[1])
        payload = bytes(range(256)) * 4096  # 1 MiB
        answer = _send_chunked("127.0.0.1", port, image.id, admin_account[2], payload)
        assert " 204 " in answer.splitlines()[0], answer + (tmp_path / "gunicorn.log").read_text()
    finally:
        server.terminate()
        server.wait(20)
    image = Image.objects.get(id=image.id)
    assert image.status == "active" and image.size == len(payload)
    assert image.os_hash_value == hashlib.sha256(payload).hexdigest()


def test_chunked_upload_to_the_development_server_is_411(live_server, admin_account):
    from urllib.parse import urlparse

    from images.models import Image

    image = registry.create_image("chunked", "raw", "bare", owner=admin_account[1])
    url = urlparse(live_server.url)
    answer = _send_chunked(url.hostname, url.port, image.id, admin_account[2], b"x" * 1000)
    assert " 411 " in answer.splitlines()[0] and "Content-Length" in answer, answer
    assert Image.objects.get(id=image.id).status == "queued"
