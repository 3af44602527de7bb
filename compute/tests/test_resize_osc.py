"""The latest `openstack` client drives resize (confirm and revert), rescue and shelve against
the API; the steps the API queues run in this process on libvirt's test driver (as in
test_resize_steps.py), so the client sees every status a real cloud shows: RESIZE,
VERIFY_RESIZE, REVERT_RESIZE, RESCUE, SHELVED_OFFLOADED and ACTIVE again. (The same commands
against a real QEMU guest: test_resize_qemu.py.)"""
import pytest
from django.utils import timezone

from cloudproj import task_names as names
from compute.models import InstanceResize, Service
from compute.services import lifecycle, resize, resize_host, shelve, shelve_host
from compute.tests import test_resize_steps as _resize_steps

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

world, sent = _resize_steps.world, _resize_steps.sent


def _deliver_all(sent):
    """Run every captured message here, in order, until none is left (as the workers would).
    The host's heartbeat is renewed first (its agent would have sent one): the scheduler's
    ComputeFilter counts a host silent for SERVICE_DOWN_TIME as down."""
    Service.objects.filter(host=_resize_steps.HOST).update(last_seen_up=timezone.now())
    while sent:
        name, args, _queue = sent.pop(0)
        if name == names.PREP_RESIZE:
            resize.prep_resize(*args)
        elif name in names.RESIZE_STEP_TASKS.values():
            step = next(key for key, value in names.RESIZE_STEP_TASKS.items() if value == name)
            resize_host.run_step(step, *args)
        elif name == names.INSTANCE_ACTION:
            lifecycle.run_action(*args)
        elif name == names.UNSHELVE_SCHEDULE:
            shelve.unshelve_schedule(*args)
        elif name == names.UNSHELVE_SPAWN:
            shelve_host.unshelve_spawn(*args)


def test_latest_client_resize_rescue_shelve(world, sent, latest_osc, admin_account):
    osc = latest_osc
    server = str(world["instance"].uuid)

    def status():
        return osc("server", "show", server)["status"]

    osc("server", "resize", "--flavor", "rs.big", server, raw=True)
    assert status() == "RESIZE"
    _deliver_all(sent)
    shown = osc("server", "show", server)
    assert shown["status"] == "VERIFY_RESIZE" and "rs.big" in str(shown["flavor"])
    osc("server", "resize", "revert", server, raw=True)
    assert status() == "REVERT_RESIZE"
    _deliver_all(sent)
    shown = osc("server", "show", server)
    assert shown["status"] == "ACTIVE" and "rs.small" in str(shown["flavor"])

    osc("server", "resize", "--flavor", "rs.big", server, raw=True)
    _deliver_all(sent)
    osc("server", "resize", "confirm", server, raw=True)
    _deliver_all(sent)
    shown = osc("server", "show", server)
    assert shown["status"] == "ACTIVE" and "rs.big" in str(shown["flavor"])
    assert not InstanceResize.objects.exists()
    refused = osc("server", "resize", "--flavor", "rs.big", server, raw=True, check=False)
    assert refused.returncode != 0 and "must change flavor" in refused.stderr

    osc("server", "rescue", server, raw=True)
    _deliver_all(sent)
    assert status() == "RESCUE"
    osc("server", "unrescue", server, raw=True)
    _deliver_all(sent)
    assert status() == "ACTIVE"

    osc("server", "shelve", server, raw=True)
    _deliver_all(sent)
    assert status() == "SHELVED_OFFLOADED"
    osc("server", "unshelve", server, raw=True)
    _deliver_all(sent)
    assert status() == "ACTIVE"
    actions = [row["Action"] for row in osc("server", "event", "list", server)]
    for action in ("resize", "revertResize", "confirmResize", "rescue", "unrescue", "shelve", "unshelve"):
        assert action in actions, actions
