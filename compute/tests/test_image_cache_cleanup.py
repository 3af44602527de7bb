"""Image cache cleanup on real files: bases used by an instance disk of the host, or by an
instance the DB places on the host, stay; young bases stay; the rest goes. Off by default."""
import io
import os
import time

import pytest

from cloudproj.testing.servers import boot
from compute.models import Instance
from compute.services import image_cache
from images.drivers import cache
from images.services import registry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


OLD = 2 * 86400


def _image(name):
    return registry.register_image(io.BytesIO(name.encode() * 1000), name, "raw", visibility="public")


def _age(path, seconds=OLD):
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def bases():
    from compute.services.flavors import ensure_default_flavors

    ensure_default_flavors()
    images = {name: _image(name) for name in ("overlaid", "placed", "young", "unused", "kernel")}
    paths = {name: cache.ensure_cached(image) for name, image in images.items()}
    for name, path in paths.items():
        if name != "young":
            _age(path)
    return images, paths


def test_cleanup_keeps_what_the_host_uses(bases, member_client, settings):
    images, paths = bases
    # an instance disk on this host built on "overlaid" (an instance the DB forgot, say)
    overlay = settings.INSTANCES_PATH / "instance-00244001" / "disk"
    cache.create_overlay(paths["overlaid"], overlay)
    # an instance the DB places on this host, being built: image "placed", kernel "kernel"
    server = boot(member_client, images["placed"], "vm")["server"]["id"]
    Instance.objects.filter(uuid=server).update(host="cptimg-a", kernel_id=str(images["kernel"].id))
    # an instance of another host does not protect anything here
    other = boot(member_client, images["unused"], "elsewhere")["server"]["id"]
    Instance.objects.filter(uuid=other).update(host="cptimg-b")
    stray = cache.cache_root() / ".partial.part"
    stray.write_bytes(b"x")

    removed = image_cache.cleanup_host_cache("cptimg-a")

    assert removed == [paths["unused"].name]
    assert not paths["unused"].exists()
    for name in ("overlaid", "placed", "young", "kernel"):
        assert paths[name].exists(), name
    assert stray.exists()
    # once the instance is deleted and the overlay gone, their bases go too
    Instance.objects.filter(uuid=server).update(deleted_at=time.strftime("%Y-%m-%dT%H:%M:%SZ"))
    overlay.unlink()
    removed = set(image_cache.cleanup_host_cache("cptimg-a"))
    assert removed == {paths["overlaid"].name, paths["placed"].name, paths["kernel"].name}
    assert paths["young"].exists()
    # a base that goes is fetched again when needed
    assert cache.ensure_cached(images["unused"]).read_bytes() == b"unused" * 1000


def test_a_used_base_gets_young_again(bases):
    images, paths = bases
    cache.ensure_cached(images["unused"])  # a boot on this host uses it again
    removed = image_cache.cleanup_host_cache("cptimg-a")
    assert paths["unused"].name not in removed and paths["unused"].exists()
    assert paths["overlaid"].name in removed


def test_periodic_cleanup_is_off_by_default_and_runs_when_on(bases, settings):
    images, paths = bases
    assert settings.IMAGE_CACHE_CLEANUP_INTERVAL == 0
    assert image_cache.start_periodic_cleanup("cptimg-a") is None
    stopped = image_cache.start_periodic_cleanup("cptimg-a", interval=0.2)
    try:
        deadline = time.monotonic() + 10
        while paths["unused"].exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not paths["unused"].exists()
        assert paths["young"].exists()
    finally:
        stopped.set()
        image_cache.stop_all()
