"""Operator CLI (nova-manage verbs): service, host (list, evacuate), flavor."""
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cloudproj.testing.factories import make_instance, make_project_user
from compute import states
from compute.models import Flavor, Instance, Migration, Service


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


def test_service_list(compute_host, settings):
    compute_host("host-a")
    compute_host("host-b", zone="az2")
    Service.objects.filter(host="host-b").update(
        last_seen_up=timezone.now() - timedelta(seconds=settings.SERVICE_DOWN_TIME + 1)
    )
    table = rows(run("service", "list"))
    assert table[0] == ["Binary", "Host", "Zone", "Status", "State", "Updated_At"]
    by_key = {(r[0], r[1]): r for r in table[1:]}
    assert len(by_key) == 6
    assert by_key[("nova-compute", "host-a")][2:5] == ["nova", "enabled", ":-)"]
    assert by_key[("nova-compute", "host-b")][2:5] == ["az2", "enabled", "XXX"]
    assert by_key[("nova-network", "host-a")][2] == "internal"
    assert len(by_key[("nova-compute", "host-a")]) == 7  # date and time

    only = rows(run("service", "list", "--host", "host-a", "--service", "nova-compute"))
    assert [r[:2] for r in only[1:]] == [["nova-compute", "host-a"]]


def test_service_enable_disable(compute_host):
    compute_host("host-a")
    assert "disabled" in run("service", "disable", "--host", "host-a", "--service", "nova-compute", "--reason", "fan")
    svc = Service.objects.get(host="host-a", binary="nova-compute")
    assert svc.disabled and svc.disabled_reason == "fan"
    table = rows(run("service", "list", "--service", "nova-compute"))
    assert table[1][3] == "disabled"
    run("service", "enable", "--host", "host-a", "--service", "nova-compute")
    assert not Service.objects.get(host="host-a", binary="nova-compute").disabled

    with pytest.raises(CommandError, match="Unknown service nova-compute on host ghost"):
        run("service", "enable", "--host", "ghost", "--service", "nova-compute")
    with pytest.raises(CommandError):
        run("service", "disable", "--host", "host-a")  # missing --service


def test_describe_resource(compute_host):
    compute_host("host-a")
    table = rows(run("service", "describe_resource", "host-a"))
    assert table[0] == ["HOST", "PROJECT", "cpu", "mem(mb)", "hdd"]
    total, used_now, used_max = table[1:4]
    assert total[:4] == ["host-a", "(total)", "16", "3072"] and int(total[4]) > 0
    assert used_now == ["host-a", "(used_now)", "0", "0", "0"]
    assert used_max == ["host-a", "(used_max)", "0", "0", "0"]
    with pytest.raises(CommandError, match="Host nowhere not found"):
        run("service", "describe_resource", "nowhere")


def test_host_list(compute_host):
    compute_host("host-a")
    compute_host("host-b", zone="az2")
    from compute.services.hosts import register_service

    register_service("controller", "nova-scheduler")
    table = rows(run("host", "list"))
    assert table == [["host", "zone"], ["controller", "internal"], ["host-a", "nova"], ["host-b", "az2"]]
    assert rows(run("host", "list", "--zone", "az2"))[1:] == [["host-b", "az2"]]


def test_flavor_list_create_delete_purge(db):
    out = run("flavor", "list")
    assert "m1.tiny: Memory: 512MB, VCPUS: 1, Root: 0GB, Ephemeral: 0Gb, FlavorID: 1, Swap: 0MB" in out
    assert len(out.strip().splitlines()) == 5

    assert run(
        "flavor", "create", "m1.xxlarge", "--memory", "32768", "--cpu", "16", "--root_gb", "320",
        "--flavor", "6", "--swap", "1024", "--ephemeral_gb", "10", "--rxtx_factor", "2", "--private",
    ).strip() == "m1.xxlarge created"
    flavor = Flavor.objects.get(name="m1.xxlarge")
    assert (flavor.flavorid, flavor.memory_mb, flavor.vcpus, flavor.root_gb, flavor.swap) == ("6", 32768, 16, 320, 1024)
    assert flavor.ephemeral_gb == 10 and flavor.rxtx_factor == 2.0 and not flavor.is_public
    assert "m1.xxlarge: Memory: 32768MB" in run("flavor", "list")

    assert run("flavor", "delete", "m1.xxlarge").strip() == "m1.xxlarge deleted"
    assert "m1.xxlarge" not in run("flavor", "list")
    assert "m1.xxlarge" in run("flavor", "list", "--all")
    assert Flavor.all_objects.filter(name="m1.xxlarge", deleted_at__isnull=False).exists()
    assert run("flavor", "delete", "m1.xxlarge", "--purge").strip() == "m1.xxlarge purged"
    assert not Flavor.objects.filter(name="m1.xxlarge").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["create", "m1.tiny", "--memory", "1", "--cpu", "1", "--root_gb", "1"], "already exists"),
        (["create", "x", "--memory", "0", "--cpu", "1", "--root_gb", "1"], "ram"),
        (["create", "x", "--memory", "1", "--cpu", "1", "--root_gb", "1", "--flavor", "1"], "ID 1 already exists"),
        (["delete", "nope"], "Flavor with name nope could not be found"),
        (["delete", "nope", "--purge"], "could not be found"),
    ],
)
def test_flavor_errors(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("flavor", *args)


def test_bad_arguments_exit_nonzero_with_one_line(db):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "manage.py", "flavor", "create", "x", "--memory", "lots", "--cpu", "1", "--root_gb", "1"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "invalid int value" in proc.stderr
    assert proc.stdout == ""


def test_host_evacuate(compute_host, django_capture_on_commit_callbacks):
    """`host evacuate HOST`: refused while HOST is up; once it is down every server of it goes to
    the scheduler (captured: no worker), one in a state that does not allow it is reported."""
    compute_host("host-a")
    compute_host("host-b")
    project, user = make_project_user()
    web, db = (make_instance(project, user, display_name=name, host="host-a", vm_state=states.ACTIVE,
                             task_state=None) for name in ("web", "db"))
    busy = make_instance(project, user, display_name="busy", host="host-a", vm_state=states.ACTIVE,
                         task_state=states.task.REBOOTING)
    elsewhere = make_instance(project, user, display_name="other", host="host-b", vm_state=states.ACTIVE,
                              task_state=None)
    with pytest.raises(CommandError, match=r"Compute service of host-a is still in use\."):
        run("host", "evacuate", "host-a")
    with pytest.raises(CommandError, match=r"Compute host ghost could not be found\."):
        run("host", "evacuate", "ghost")
    assert not Migration.objects.exists()

    Service.objects.filter(host="host-a", binary="nova-compute").update(forced_down=True)
    out = io.StringIO()
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(CommandError, match=r"1 server\(s\) could not be evacuated\."):
        call_command("host", "evacuate", "host-a", "--target-host", "host-b", stdout=out)
    table = {row[1]: row[2:] for row in rows(out.getvalue())[1:-1]}
    assert table["web"] == ["accepted"] and table["db"] == ["accepted"]
    assert table["busy"][0] == "refused:" and "task_state rebooting" in " ".join(table["busy"])
    assert "2 of 3 server(s) of host-a being evacuated" in out.getvalue()
    assert [call.args[0] for call in send.call_args_list] == ["compute.evacuate_schedule"] * 2
    assert {(m.instance_uuid, m.migration_type, m.status, m.source_compute, m.dest_compute)
            for m in Migration.objects.all()} == {(i.uuid, "evacuation", "accepted", "host-a", "host-b")
                                                   for i in (web, db)}
    assert [Instance.objects.get(pk=i.pk).status for i in (web, db, busy, elsewhere)] == [
        "REBUILD", "REBUILD", "REBOOT", "ACTIVE"]
