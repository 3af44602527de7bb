"""Registering images: the store, checksums, format checks, the `image` command."""
import hashlib
import io
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from identity.services import accounts as identity_services
from images.services import registry
from images.drivers import store
from images.models import Image

pytestmark = pytest.mark.django_db


def digests(path):
    data = path.read_bytes()
    return len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def test_register_raw_is_active_with_size_and_checksums(raw_file):
    image = registry.register_image(raw_file, "disk", "raw", visibility="public", properties={"architecture": "x86_64"})
    size, md5, sha256 = digests(raw_file)
    image.refresh_from_db()
    assert image.status == "active"
    assert (image.size, image.checksum, image.os_hash_algo, image.os_hash_value) == (size, md5, "sha256", sha256)
    assert image.container_format == "bare"
    assert store.location(image.id).read_bytes() == raw_file.read_bytes()
    assert b"".join(store.read(image.id)) == raw_file.read_bytes()
    assert not [p for p in store.store_root().iterdir() if p.name.endswith(".part")]


def test_register_from_stream(qcow2_file):
    with open(qcow2_file, "rb") as handle:
        image = registry.register_image(io.BufferedReader(handle), "q", "qcow2")
    assert image.status == "active"
    assert image.virtual_size == 64 * 1024 * 1024
    assert image.checksum == hashlib.md5(qcow2_file.read_bytes()).hexdigest()


def test_qcow2_uploaded_as_raw_is_refused_and_killed(qcow2_file):
    with pytest.raises(registry.ImageInvalid, match="format 'qcow2', not 'raw'"):
        registry.register_image(qcow2_file, "liar", "raw")
    image = Image.objects.get(name="liar")
    assert image.status == "killed"
    assert not store.exists(image.id)


def test_qcow2_with_backing_file_is_refused(tmp_path, raw_file):
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(raw_file), str(evil)], check=True)
    with pytest.raises(registry.ImageInvalid, match="backing file"):
        registry.register_image(evil, "evil", "qcow2")
    assert Image.objects.get(name="evil").status == "killed"


def test_qcow2_with_external_data_file_is_refused(tmp_path):
    evil = tmp_path / "data.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", f"data_file={tmp_path / 'ext.raw'}",
                    str(evil), "1M"], check=True)
    with pytest.raises(registry.ImageInvalid, match="external data file"):
        registry.register_image(evil, "evil2", "qcow2")


@pytest.mark.parametrize("name", ["bad\nname", "x" * 256, "tab\there"])
def test_bad_names_are_refused(raw_file, name):
    with pytest.raises(registry.ImageInvalid):
        registry.register_image(raw_file, name, "raw")


def test_bad_format_mix_is_refused(raw_file):
    with pytest.raises(registry.ImageInvalid, match="Invalid mix"):
        registry.register_image(raw_file, "x", "ami", "bare")
    with pytest.raises(registry.ImageInvalid, match="Invalid disk format"):
        registry.register_image(raw_file, "x", "exe", "bare")


def test_kernel_id_must_be_an_aki(raw_file):
    with pytest.raises(registry.ImageInvalid, match="kernel_id"):
        registry.register_image(raw_file, "x", "ami", properties={"kernel_id": "nope"})


def test_delete_is_soft_and_removes_data(raw_file):
    image = registry.register_image(raw_file, "gone", "raw")
    registry.delete_image(image)
    image.refresh_from_db()
    assert image.status == "deleted" and image.deleted_at is not None
    assert not store.exists(image.id)
    assert not Image.objects.filter(id=image.id).exists()


def test_protected_image_cannot_be_deleted(raw_file):
    image = registry.register_image(raw_file, "keep", "raw", protected=True)
    with pytest.raises(registry.ImageForbidden):
        registry.delete_image(image)


def test_image_command_register_list_delete(raw_file, tmp_path, capsys):
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"kernel" * 100)
    call_command("image", "register", str(kernel), "--name", "k1", "--disk-format", "aki", "--public")
    aki = Image.objects.get(name="k1")
    assert (aki.disk_format, aki.container_format, aki.visibility) == ("aki", "aki", "public")
    project = identity_services.create_project("proj-img")
    call_command("image", "image_register", str(raw_file), "--name", "server", "--disk-format", "ami",
                 "--public=T", "--arch=amd64", "--kernel", "k1", "--project", "proj-img")
    ami = Image.objects.get(name="server")
    assert ami.properties == {"architecture": "x86_64", "kernel_id": str(aki.id)}
    assert ami.owner == project and ami.visibility == "public" and ami.status == "active"
    capsys.readouterr()
    call_command("image", "list")
    out = capsys.readouterr().out
    assert "server" in out and "k1" in out and "x86_64" in out
    call_command("image", "delete", "server")
    assert Image.all_objects.get(name="server").status == "deleted"
    with pytest.raises(CommandError, match="No image"):
        call_command("image", "delete", "server")
    with pytest.raises(CommandError, match="not a file"):
        call_command("image", "register", str(tmp_path / "missing"), "--name", "m")


def test_stalled_uploads_are_killed_live_ones_kept(raw_file):
    import os
    import time
    from datetime import timedelta

    from django.utils import timezone

    from images.drivers import store

    dead = registry.create_image("dead", "raw", "bare")
    live = registry.create_image("live", "raw", "bare")
    long_ago = timezone.now() - timedelta(hours=1)
    Image.objects.filter(pk__in=[dead.pk, live.pk]).update(status=Image.SAVING, updated_at=long_ago)
    part = store.store_root() / f".{live.id}.abc.part"
    part.write_bytes(b"still coming")
    old = store.store_root() / f".{dead.id}.abc.part"
    old.write_bytes(b"abandoned")
    then = time.time() - 3600
    os.utime(old, (then, then))
    assert registry.reap_stalled_uploads(600) == [dead.id]
    assert Image.objects.get(pk=dead.pk).status == Image.KILLED
    assert Image.objects.get(pk=live.pk).status == Image.SAVING
    assert not old.exists() and part.exists()
    fresh = registry.register_image(raw_file, "fresh", "raw")
    assert Image.objects.get(pk=fresh.pk).status == Image.ACTIVE


def test_upload_reaper_is_a_periodic_task_of_the_scheduler(settings):
    from images import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["reap-stalled-image-uploads"]
    assert entry["task"] == tasks.reap_stalled_uploads.name and entry["options"]["queue"] == "scheduler"
    assert tasks.reap_stalled_uploads.apply().get() == 0
