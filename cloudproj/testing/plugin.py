"""The project's pytest plugin (the root conftest.py loads it): every shared fixture, and the
markers of the expensive tests, given by where they live, so `make test-fast` can leave them out:

    qemu     boots real guests (libvirt/QEMU): test modules named *_qemu.py, the console browser test
    faults   kills and restarts real processes: compute/tests/faults/
    browser  drives headless Chromium: dashboard/tests/test_e2e_*.py, consoles/tests/test_console_browser.py
    e2e      runs `make run` end to end: tests/test_make_run.py, tests/test_make_run_beside_qemu.py
"""
import os
from pathlib import Path

import pytest

pytest_plugins = [
    "cloudproj.testing.accounts",
    "cloudproj.testing.browser",
    "cloudproj.testing.cloud",
    "cloudproj.testing.dashboard",
    "cloudproj.testing.libvirtd",
    "cloudproj.testing.osc",
    "cloudproj.testing.latest_clients",
    "cloudproj.testing.servers",
    "cloudproj.testing.volumes",
]

ROOT = Path(__file__).resolve().parents[2]

# (marker, test file paths relative to the repository, as glob patterns)
MARKED_PATHS = (
    ("qemu", ("*_qemu.py", "consoles/tests/test_console_browser.py")),
    ("faults", ("compute/tests/faults/*",)),
    ("browser", ("dashboard/tests/test_e2e_*.py", "consoles/tests/test_console_browser.py")),
    ("e2e", ("tests/test_make_run.py", "tests/test_make_run_beside_qemu.py")),
)


def test_cloud_name() -> str:
    """The CLOUD_NAME of this pytest process (and of the test clouds, agents and `make run`s it
    starts, which inherit it): TEST_CLOUD_NAME, else `cpt<pid in hex>`, so a test run never
    touches the chains of `make run` (`cloudproj`), of `make conformance` or of another run."""
    return os.environ.get("TEST_CLOUD_NAME") or f"cpt{os.getpid():x}"


def pytest_configure(config):
    from django.conf import settings

    name = test_cloud_name()
    os.environ["CLOUD_NAME"] = name
    settings.CLOUD_NAME = name


def pytest_sessionfinish(session):
    """The chains named for this run's cloud go (those a failed test left behind)."""
    from cloudproj.testing.host_network import iptables_missing

    if iptables_missing():
        return
    from metadata.linux import iptables as metadata_iptables
    from network.linux import isolation

    for remove in (metadata_iptables.remove_chains, lambda: isolation.remove(isolation.chain_of_cloud())):
        try:
            remove()
        except Exception:  # noqa: BLE001 - a cleanup at exit must not turn a green run red
            pass


def markers_of(path: Path) -> list[str]:
    relative = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path
    return [marker for marker, patterns in MARKED_PATHS if any(relative.match(p) for p in patterns)]


def pytest_collection_modifyitems(items):
    for item in items:
        for marker in markers_of(item.path):
            item.add_marker(marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Lets the browser fixture see whether the test failed (for a last screenshot)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
