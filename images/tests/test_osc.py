"""The real OpenStack client against a live server."""
import pytest

from images import services

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_openstack_image_list_and_show(osc, admin_account, raw_file):
    image = services.register_image(raw_file, "cirros-like", "raw", visibility="public",
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
