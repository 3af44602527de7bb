"""The libvirt driver against libvirt's own test hypervisor (test:///default), and its
reconnect against a private libvirtd that the test starts and restarts itself."""
import os
import uuid

import pytest

from compute.virt import power_state as ps
from compute.virt.driver import InstanceExists, InstanceInvalidState, InstanceNotFound
from compute.virt.libvirt_driver import LibvirtDriver
from compute.virt.spec import InstanceSpec, console_log_path

libvirt = pytest.importorskip("libvirt", reason="libvirt-python (the libvirt module) is not installed")

PREFIX = "cpt-test-"


def _remove_test_domains(driver):
    for name in driver.list_instances():
        if name.startswith(PREFIX):
            driver.destroy(name)


@pytest.fixture
def driver(tmp_path):
    drv = LibvirtDriver("test:///default", host="virt-test", instances_path=tmp_path)
    drv.poll_interval = 0.01
    yield drv
    _remove_test_domains(drv)


@pytest.fixture
def spec_factory(tmp_path):
    def make(**overrides):
        name = overrides.pop("name", f"{PREFIX}{uuid.uuid4().hex[:8]}")
        values = dict(uuid=str(uuid.uuid4()), name=name, display_name="vm", memory_mb=128, vcpus=1,
                      disk_path=str(tmp_path / name / "disk"), console_log_path=console_log_path(tmp_path, name),
                      nics=[("fa:16:3e:00:00:01", "cptv0")], kernel_path="/nonexistent/vmlinuz")
        values.update(overrides)
        return InstanceSpec(**values)

    return make


def test_full_lifecycle(driver, spec_factory):
    spec = spec_factory()
    assert driver.get_power_state(spec) == ps.NOSTATE
    assert not driver.instance_exists(spec)

    assert driver.spawn(spec) == ps.RUNNING
    assert os.path.isdir(spec.instance_dir)
    assert spec.name in driver.list_instances()
    assert driver.instance_exists(spec.uuid) and driver.instance_exists(spec.name)
    info = driver.get_info(spec)
    assert (info.state, info.state_name, info.uuid, info.name) == (ps.RUNNING, "running", spec.uuid, spec.name)
    assert (info.max_mem_kb, info.num_cpu) == (128 * 1024, 1)

    assert driver.pause(spec) == ps.PAUSED
    assert driver.get_info(spec.uuid).state == ps.PAUSED
    assert driver.pause(spec) == ps.PAUSED  # idempotent
    assert driver.unpause(spec) == ps.RUNNING

    assert driver.suspend(spec) == ps.SUSPENDED
    assert driver.get_power_state(spec) == ps.SUSPENDED
    assert driver.resume(spec) == ps.RUNNING

    assert driver.power_off(spec, timeout=5) == ps.SHUTDOWN
    assert driver.get_power_state(spec) == ps.SHUTDOWN
    assert spec.name in driver.list_instances()  # stopped, still defined
    assert driver.power_off(spec) == ps.SHUTDOWN  # idempotent
    assert driver.power_on(spec) == ps.RUNNING
    assert driver.power_on(spec) == ps.RUNNING  # idempotent

    assert driver.reboot(spec) == ps.RUNNING
    assert driver.reboot(spec, hard=True) == ps.RUNNING
    assert driver.get_info(spec).uuid == spec.uuid

    assert driver.destroy(spec, cleanup_files=True) is True
    assert driver.get_power_state(spec) == ps.NOSTATE
    assert spec.name not in driver.list_instances()
    assert not os.path.exists(spec.instance_dir)
    assert driver.destroy(spec) is False  # idempotent
    assert driver.destroy(spec.uuid, cleanup_files=True) is False


def test_trigger_crash_dump_sends_an_nmi_to_a_running_domain(driver, spec_factory):
    spec = spec_factory()
    with pytest.raises(InstanceNotFound):
        driver.trigger_crash_dump(spec)
    driver.spawn(spec)
    driver.trigger_crash_dump(spec.uuid)  # libvirt's test hypervisor accepts virDomainInjectNMI
    assert driver.get_power_state(spec) == ps.RUNNING
    driver.power_off(spec, timeout=0)
    with pytest.raises(InstanceInvalidState, match="sent an NMI"):
        driver.trigger_crash_dump(spec)


def test_power_off_without_grace_destroys(driver, spec_factory):
    spec = spec_factory()
    driver.spawn(spec)
    assert driver.power_off(spec.uuid, timeout=0) == ps.SHUTDOWN


def test_spawn_is_idempotent_and_refuses_name_clash(driver, spec_factory):
    spec = spec_factory()
    assert driver.spawn(spec) == ps.RUNNING
    assert driver.spawn(spec) == ps.RUNNING  # a re-delivered spawn converges
    assert driver.list_instances().count(spec.name) == 1
    clash = spec_factory(name=spec.name)  # same name, other uuid
    with pytest.raises(InstanceExists, match=spec.name):
        driver.spawn(clash)
    assert driver.get_info(spec.name).uuid == spec.uuid  # the existing domain is untouched


def test_hard_reboot_recreates_a_lost_domain_from_the_spec(driver, spec_factory):
    spec = spec_factory()
    driver.spawn(spec)
    driver.destroy(spec)
    assert driver.reboot(spec, hard=True) == ps.RUNNING
    assert driver.get_info(spec).uuid == spec.uuid


def test_soft_reboot_of_a_stopped_domain_starts_it(driver, spec_factory):
    spec = spec_factory()
    driver.spawn(spec)
    driver.power_off(spec, timeout=0)
    assert driver.reboot(spec) == ps.RUNNING


def test_errors_are_mapped(driver, spec_factory):
    spec = spec_factory()
    for call in (lambda: driver.get_info(spec), lambda: driver.pause(spec), lambda: driver.suspend(spec.uuid),
                 lambda: driver.power_off(spec)):
        with pytest.raises(InstanceNotFound, match="does not exist"):
            call()
    driver.spawn(spec)
    driver.power_off(spec, timeout=0)
    with pytest.raises(InstanceInvalidState):
        driver.suspend(spec)
    with pytest.raises(InstanceInvalidState):
        driver.pause(spec)


def test_console_log_returns_only_the_tail(driver, spec_factory):
    spec = spec_factory()
    assert driver.console_log(spec) == ""  # nothing written yet
    os.makedirs(spec.instance_dir, exist_ok=True)
    with open(spec.console_log_path, "wb") as fh:
        fh.write(b"x" * (200 * 1024) + b"\nlogin: \xff\xfe ok\n")
    tail = driver.console_log(spec)
    assert len(tail.encode("utf-8", "replace")) <= 64 * 1024 + 16
    assert tail.endswith("login: \ufffd\ufffd ok\n")
    assert driver.console_log(spec, max_bytes=6) == "\ufffd\ufffd ok\n"
    assert driver.console_log(spec.console_log_path, max_bytes=4) == " ok\n"
    assert driver.console_log(spec.name, max_bytes=3) == "ok\n"


def test_host_stats_still_work(driver):
    stats = driver.host_stats()
    assert stats.hypervisor_hostname == "virt-test" and stats.vcpus > 0 and stats.memory_mb > 0


# -- reconnect -----------------------------------------------------------------------
def test_reconnects_after_libvirtd_restart(private_libvirtd, spec_factory, tmp_path):
    drv = LibvirtDriver(private_libvirtd.uri, host="virt-test", instances_path=tmp_path)
    drv.poll_interval = 0.01
    try:
        spec = spec_factory()
        assert drv.spawn(spec) == ps.RUNNING
        assert spec.name in drv.list_instances()
        old_conn = drv.conn

        private_libvirtd.stop()
        private_libvirtd.start()

        # the same driver object keeps working: the test hypervisor restarted empty
        names = drv.list_instances()
        assert spec.name not in names and "test" in names
        assert drv.conn is not old_conn
        assert drv.spawn(spec) == ps.RUNNING
        assert drv.get_info(spec).uuid == spec.uuid
        drv.destroy(spec)
    finally:
        drv.close()


def test_dead_connection_object_is_replaced(driver, spec_factory):
    driver.list_instances()
    driver.conn.close()  # e.g. closed behind our back
    assert isinstance(driver.list_instances(), list)
