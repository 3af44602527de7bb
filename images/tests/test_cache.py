"""The per-host cache (_base/<sha1>) and per-instance overlays."""
import hashlib
import threading

import pytest

from images.drivers import cache, qemu_img, store

from images.services import registry

pytestmark = pytest.mark.django_db


def test_ensure_cached_copies_and_verifies(raw_file, settings):
    image = registry.register_image(raw_file, "base", "raw")
    path = cache.ensure_cached(image)
    assert path == settings.IMAGE_CACHE_PATH / hashlib.sha1(str(image.id).encode()).hexdigest()
    assert path.read_bytes() == raw_file.read_bytes()
    assert cache.ensure_cached(image) == path  # second call: already there


def test_corrupted_store_file_is_refused_and_not_left(raw_file, settings):
    image = registry.register_image(raw_file, "base", "raw")
    data = bytearray(store.location(image.id).read_bytes())
    data[1000] ^= 0xFF  # same size, different content
    store.location(image.id).write_bytes(bytes(data))
    with pytest.raises(cache.CacheError, match="does not match"):
        cache.ensure_cached(image)
    leftovers = [p.name for p in settings.IMAGE_CACHE_PATH.iterdir() if p.name != ".locks"]
    assert leftovers == []


def test_inactive_image_is_not_cached(raw_file):
    image = registry.create_image("q", "raw", "bare")
    with pytest.raises(cache.CacheError, match="not active"):
        cache.ensure_cached(image)


def test_concurrent_fetches_make_one_copy(raw_file, monkeypatch):
    image = registry.register_image(raw_file, "base", "raw")
    copies = []
    real_read = store.read

    def counting_read(image_id, *args, **kwargs):
        copies.append(image_id)
        for chunk in real_read(image_id, chunk_size=64 * 1024):
            threading.Event().wait(0.001)  # a slow store: the fetches overlap
            yield chunk

    monkeypatch.setattr(store, "read", counting_read)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def fetch():
        try:
            barrier.wait()
            path = cache.ensure_cached(image)
            results.append((path, path.stat().st_ino))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(copies) == 1
    assert len(results) == 8 and len(set(results)) == 1
    assert results[0][0].read_bytes() == raw_file.read_bytes()


def test_overlay_is_qcow2_backed_by_the_base(raw_file, settings):
    image = registry.register_image(raw_file, "base", "raw")
    base = cache.ensure_cached(image)
    overlay = settings.INSTANCES_PATH / "instance-00000001" / "disk"
    cache.create_overlay(base, overlay, size_gb=1, backing_format=cache.backing_format(image))
    info = qemu_img.info(overlay, fmt="qcow2")
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == str(base)
    assert info["backing-filename-format"] == "raw"
    assert info["virtual-size"] == 1024**3
    assert cache.in_use_bases() == {base}


def test_overlay_keeps_base_size_when_flavor_is_smaller(qcow2_file, settings):
    image = registry.register_image(qcow2_file, "q", "qcow2")
    base = cache.ensure_cached(image)
    overlay = settings.INSTANCES_PATH / "i2" / "disk"
    cache.create_overlay(base, overlay, backing_format=cache.backing_format(image))
    info = qemu_img.info(overlay, fmt="qcow2")
    assert info["backing-filename-format"] == "qcow2"
    assert info["virtual-size"] == 64 * 1024 * 1024


def _fetch_in_child(image, counter, queue):
    try:
        path = cache.ensure_cached(image)
        queue.put((str(path), path.stat().st_ino))
    except Exception as exc:  # noqa: BLE001 - reported by the parent
        queue.put(("error", repr(exc)))


def test_concurrent_fetches_across_processes_make_one_copy(raw_file, monkeypatch, tmp_path):
    import multiprocessing

    image = registry.register_image(raw_file, "base", "raw")
    counter = tmp_path / "copies"
    real_read = store.read

    def counting_read(image_id, *args, **kwargs):
        with open(counter, "a") as handle:
            handle.write("copy\n")
        for chunk in real_read(image_id, chunk_size=64 * 1024):
            threading.Event().wait(0.002)
            yield chunk

    monkeypatch.setattr(store, "read", counting_read)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_fetch_in_child, args=(image, counter, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert all(r[0] != "error" for r in results), results
    assert len(set(results)) == 1
    assert counter.read_text().count("copy") == 1
