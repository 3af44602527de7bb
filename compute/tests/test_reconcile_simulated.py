"""Reconciliation against libvirt's test hypervisor (test:///default) in this process: the
real libvirt driver, real domains of the test driver, real PostgreSQL rows. The "guest
powered itself off" is a `destroy` through a second libvirt connection, which is what QEMU
exiting looks like to libvirt (test_reconcile_qemu.py does it with virsh on real guests)."""
import uuid

import pytest
from django.utils import timezone

from cloudproj.testing.factories import make_host, make_instance, make_project_user
from compute import states
from compute.models import Instance, InstanceAction
from compute.services import host_resources as hr
from compute.services import periodic_hosts, reconcile
from compute.virt import power_state as ps
from compute.virt.libvirt_driver import LibvirtDriver
from compute.virt.spec import InstanceSpec, console_log_path

libvirt = pytest.importorskip("libvirt", reason="libvirt-python (the libvirt module) is not installed")

pytestmark = pytest.mark.django_db
HOST = "recon-sim-1"


@pytest.fixture
def driver(tmp_path, settings, monkeypatch):
    settings.INSTANCES_PATH = tmp_path
    drv = LibvirtDriver("test:///default", host=HOST, instances_path=tmp_path)
    drv.poll_interval = 0.01
    monkeypatch.setattr(hr, "_driver", drv)
    yield drv
    for name in drv.list_instances():
        if name.startswith("instance-"):
            drv.destroy(name)


@pytest.fixture
def world(db):
    project, user = make_project_user("recon")
    return project, user


def boot(driver, world, tmp_path, host=HOST, **fields):
    """An ACTIVE instance row on `host` and its running domain (as the pipeline leaves them)."""
    project, user = world
    instance = make_instance(project, user, host=host, vm_state=states.ACTIVE, task_state=None,
                             power_state=ps.RUNNING, **fields)
    spec = InstanceSpec(uuid=str(instance.uuid), name=instance.name, memory_mb=128, vcpus=1,
                        disk_path=str(tmp_path / instance.name / "disk"),
                        console_log_path=console_log_path(tmp_path, instance.name), host=host)
    driver.spawn(spec, timeout=5)
    return instance


def outside_connection():
    return libvirt.open("test:///default")  # shares the in-process test hypervisor's state


def test_guest_that_powered_off_shows_shutoff_with_an_action(driver, world, tmp_path):
    instance = boot(driver, world, tmp_path)
    outside_connection().lookupByUUIDString(str(instance.uuid)).destroy()

    report = reconcile.sync_power_states(HOST)

    instance.refresh_from_db()
    assert (instance.status, instance.vm_state, instance.power_state) == ("SHUTOFF", states.STOPPED, ps.SHUTDOWN)
    assert report["changed"]
    action = InstanceAction.objects.get(instance=instance, action="stop")
    assert "shutdown by itself" in action.message
    assert action.events.get().event == "compute_sync_power_state"


def test_instance_with_a_task_in_progress_is_left_alone(driver, world, tmp_path):
    instance = boot(driver, world, tmp_path)
    Instance.objects.filter(pk=instance.pk).update(task_state=states.task.REBOOTING)
    outside_connection().lookupByUUIDString(str(instance.uuid)).destroy()

    reconcile.sync_power_states(HOST)

    instance.refresh_from_db()
    assert (instance.vm_state, instance.task_state, instance.power_state) == (
        states.ACTIVE, states.task.REBOOTING, ps.RUNNING)


def test_vanished_domain_of_active_instance_is_shutoff_and_start_recreates_it(driver, world, tmp_path):
    instance = boot(driver, world, tmp_path)
    driver.destroy(str(instance.uuid))  # destroyed and undefined outside the cloud

    reconcile.sync_power_states(HOST)

    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("SHUTOFF", ps.NOSTATE)
    assert "vanished" in InstanceAction.objects.get(instance=instance, action="stop").message


def test_stopped_instance_found_running_is_stopped_again(driver, world, tmp_path):
    instance = boot(driver, world, tmp_path)
    Instance.objects.filter(pk=instance.pk).update(vm_state=states.STOPPED, power_state=ps.SHUTDOWN)

    reconcile.sync_power_states(HOST)

    assert driver.get_power_state(str(instance.uuid)) == ps.SHUTDOWN
    instance.refresh_from_db()
    assert (instance.status, instance.power_state) == ("SHUTOFF", ps.SHUTDOWN)


def test_running_instance_is_unchanged_and_other_hosts_are_not_looked_at(driver, world, tmp_path):
    mine = boot(driver, world, tmp_path)
    other = boot(driver, world, tmp_path, host="recon-sim-2")
    outside_connection().lookupByUUIDString(str(other.uuid)).destroy()

    report = reconcile.sync_power_states(HOST)

    assert report == {"host": HOST, "checked": 1, "changed": {}}
    other.refresh_from_db()
    mine.refresh_from_db()
    assert other.vm_state == mine.vm_state == states.ACTIVE


@pytest.mark.parametrize("action, expected_domain", [("log", ps.RUNNING), ("shutdown", ps.SHUTDOWN),
                                                     ("reap", None), ("noop", ps.RUNNING)])
def test_running_deleted_domain_is_handled_per_setting(driver, world, tmp_path, action, expected_domain):
    instance = boot(driver, world, tmp_path)
    (tmp_path / instance.name / "disk").write_bytes(b"overlay")
    Instance.all_objects.filter(pk=instance.pk).update(deleted_at=timezone.now(), vm_state=states.DELETED)

    report = reconcile.running_deleted(HOST, action)

    if expected_domain is None:
        assert not driver.instance_exists(str(instance.uuid))
        assert not (tmp_path / instance.name).exists()
        assert report["domains"] == {instance.name: "reaped"}
    else:
        assert driver.get_power_state(str(instance.uuid)) == expected_domain
        assert (tmp_path / instance.name / "disk").exists()


def test_running_deleted_respects_the_grace_period(driver, world, tmp_path, settings):
    settings.RUNNING_DELETED_TIMEOUT = 3600
    instance = boot(driver, world, tmp_path)
    Instance.all_objects.filter(pk=instance.pk).update(deleted_at=timezone.now(), vm_state=states.DELETED)

    assert reconcile.running_deleted(HOST, "reap")["domains"] == {}
    assert driver.instance_exists(str(instance.uuid))


def test_domain_without_a_row_is_reaped_only_if_this_host_made_it(driver, world, tmp_path):
    ours = boot(driver, world, tmp_path)
    theirs = boot(driver, world, tmp_path, host="another-cloud-host")
    Instance.all_objects.filter(pk__in=[ours.pk, theirs.pk]).delete()  # archived / purged rows
    foreign = InstanceSpec(uuid=str(uuid.uuid4()), name="my-own-vm", memory_mb=128, vcpus=1,
                           disk_path=str(tmp_path / "x" / "disk"), console_log_path=str(tmp_path / "x" / "c.log"))
    driver.spawn(foreign, timeout=5)

    report = reconcile.running_deleted(HOST, "reap")

    assert report["domains"] == {ours.name: "reaped"}
    assert not driver.instance_exists(str(ours.uuid))
    assert driver.instance_exists(str(theirs.uuid))
    assert driver.instance_exists("my-own-vm")
    assert driver.instance_exists("test")  # the test driver's own domain
    driver.destroy("my-own-vm")


def test_live_instance_domains_are_never_touched(driver, world, tmp_path):
    instance = boot(driver, world, tmp_path)
    assert reconcile.running_deleted(HOST, "reap")["domains"] == {}
    assert driver.get_power_state(str(instance.uuid)) == ps.RUNNING


def test_unknown_running_deleted_action_is_refused(driver):
    with pytest.raises(ValueError, match="RUNNING_DELETED_ACTION"):
        reconcile.running_deleted(HOST, "explode")


def test_fan_out_sends_to_live_hosts_only_and_not_when_off(settings, db):
    """The messages land in the real broker's per-host queues (Redis lists named after them)."""
    import json

    from cloudproj.testing.cloud import redis_broker_or_skip

    url = redis_broker_or_skip()  # also empties this test's broker database
    import redis

    broker = redis.Redis.from_url(url)
    make_host("fan-up")
    make_host("fan-disabled", disabled=True)
    make_host("fan-down", up=False)
    settings.SYNC_POWER_STATE_INTERVAL = 60

    assert periodic_hosts.fan_out("sync_power_states") == ["fan-disabled", "fan-up"]
    for host in ("fan-up", "fan-disabled"):
        (raw,) = broker.lrange(f"compute.{host}", 0, -1)
        headers = json.loads(raw)["headers"]
        assert (headers["task"], headers["argsrepr"]) == ("compute.sync_power_states", repr([host]))
        assert headers["expires"]  # a host that is slow to take it does not get a backlog
    assert broker.llen("compute.fan-down") == 0
    settings.SYNC_POWER_STATE_INTERVAL = 0
    assert periodic_hosts.fan_out("sync_power_states") == []
    assert broker.llen("compute.fan-up") == 1
    with pytest.raises(ValueError):
        periodic_hosts.fan_out("nope")


def test_reap_after_force_delete_removes_only_a_deleted_instances_leftovers(driver, world, tmp_path):
    from compute.services.instances import soft_delete

    live = boot(driver, world, tmp_path)
    gone = boot(driver, world, tmp_path)
    soft_delete(gone)

    assert reconcile.reap_deleted(live.uuid, HOST) is None
    result = reconcile.reap_deleted(gone.uuid, HOST)

    assert result["domain"] is True
    assert not driver.instance_exists(str(gone.uuid))
    assert driver.get_power_state(str(live.uuid)) == ps.RUNNING
    assert reconcile.reap_deleted(gone.uuid, HOST)["domain"] is False  # the second time: nothing left


def test_beat_entries_route_to_the_scheduler_and_an_interval_of_0_drops_one():
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    entries = django_settings.CELERY_BEAT_SCHEDULE
    for name, kind in (("sync-power-states", "sync_power_states"), ("running-deleted-instances", "running_deleted"),
                       ("network-orphans", "network_orphans")):
        assert entries[name]["task"] == "compute.fan_out_host_task"
        assert entries[name]["args"] == [kind] and kind in periodic_hosts.HOST_TASKS
        assert entries[name]["options"] == {"queue": "scheduler"}
    assert entries["refresh-quota-usages"]["task"] == "identity.refresh_quota_usages"
    code = "from django.conf import settings; print(sorted(settings.CELERY_BEAT_SCHEDULE))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cloudproj.settings", "SYNC_POWER_STATE_INTERVAL": "0",
           "QUOTA_REFRESH_INTERVAL": "0"}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "sync-power-states" not in out and "refresh-quota-usages" not in out and "network-orphans" in out
