"""Fixtures of the images tests: a private store and cache per test, small disk files."""
import subprocess

import pytest


@pytest.fixture(autouse=True)
def image_paths(settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"
    return settings


@pytest.fixture
def raw_file(tmp_path):
    path = tmp_path / "disk.raw"
    with open(path, "wb") as handle:
        for i in range(3):  # 3 MiB + a bit: more than one store chunk
            handle.write(bytes([i + 1]) * (1024 * 1024))
        handle.write(b"tail")
    return path


@pytest.fixture
def qcow2_file(tmp_path):
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    return path
