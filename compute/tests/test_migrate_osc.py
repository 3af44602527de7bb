"""The latest `openstack` client drives cold migration (revert, confirm), the migration list
and evacuation against the API (live migration's 409 is test_migrate_api.py's: this client's
`server migrate --live-migration` fails in the client below 2.25, before any request); the steps the API queues run in this
process as the host each is addressed to (two hosts on libvirt's test driver, as in
test_migrate_steps.py), so the client sees every status a real cloud shows. (The same commands
against real QEMU guests and two agents: test_migrate_qemu.py.)"""
import pytest
from django.utils import timezone

from cloudproj import task_names as names
from compute.models import Migration, Service
from compute.services import evacuate, evacuate_host, resize, resize_host
from compute.tests import test_migrate_steps as _steps

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

world, sent = _steps.world, _steps.sent
A, B = _steps.A, _steps.B


def _deliver_all(world, sent):
    """Run every captured message here, in order, as its worker would (on the host of its
    queue); the hosts' heartbeats renewed first, as their agents would."""
    Service.objects.filter(host__in=[A, B], forced_down=False).update(last_seen_up=timezone.now())
    while sent:
        name, args, queue = sent.pop(0)
        host = queue.split(".", 1)[1] if queue.startswith("compute.") else None
        if name == names.PREP_RESIZE:
            resize.prep_resize(*args)
        elif name == names.EVACUATE_SCHEDULE:
            evacuate.evacuate_schedule(*args)
        elif name in names.RESIZE_STEP_TASKS.values():
            step = next(key for key, value in names.RESIZE_STEP_TASKS.items() if value == name)
            with world["hosts"].on(host):
                resize_host.run_step(step, *args)
        elif name == names.EVACUATE_SPAWN:
            with world["hosts"].on(host):
                evacuate_host.evacuate_spawn(*args)


def test_latest_client_migrate_revert_confirm_and_evacuate(world, sent, latest_osc, admin_account):
    osc = latest_osc
    server = str(world["instance"].uuid)

    def shown():
        row = osc("server", "show", server)
        return row["status"], row["OS-EXT-SRV-ATTR:host"]

    osc("server", "migrate", server, raw=True)
    assert shown() == ("RESIZE", A)
    _deliver_all(world, sent)
    assert shown() == ("VERIFY_RESIZE", B)
    osc("server", "resize", "revert", server, raw=True)
    assert shown()[0] == "REVERT_RESIZE"
    _deliver_all(world, sent)
    assert shown() == ("ACTIVE", A)

    osc("server", "migrate", server, raw=True)
    _deliver_all(world, sent)
    osc("server", "migrate", "confirm", server, raw=True)
    _deliver_all(world, sent)
    assert shown() == ("ACTIVE", B)
    listed = osc("server", "migration", "list")
    assert sorted((row["Status"], row["Source Compute"], row["Dest Compute"]) for row in listed) == [
        ("confirmed", A, B), ("reverted", A, B)], listed

    refused = osc("server", "evacuate", server, check=False)
    assert refused.returncode != 0 and "still in use" in refused.stderr
    osc("compute", "service", "set", "--down", B, "nova-compute", raw=True)
    osc("server", "evacuate", server, raw=True)
    assert shown()[0] == "REBUILD"
    _deliver_all(world, sent)
    assert shown() == ("ACTIVE", A)
    row = Migration.objects.get(instance_uuid=server, migration_type="evacuation")
    assert (row.status, row.source_compute, row.dest_compute) == ("done", B, A)
