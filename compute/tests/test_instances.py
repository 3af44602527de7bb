import base64

import pytest
from django.utils import timezone

from cloudproj.testing.factories import Ctx, make_host, make_project_user
from compute import states
from compute.models import Claim, ComputeNode, Flavor, Instance, InstanceAction, InstanceFault, KeyPair
from compute.scheduler import NoValidHost, RequestSpec
from compute.scheduler.claims import schedule_and_claim
from compute.services import actions, instances
from cloudproj.exceptions import Conflict, Forbidden, Invalid, NotFound, OverQuota
from identity.services import quotas

pytestmark = pytest.mark.django_db

IMAGE = {"id": "8a3c2d43-6f2e-4b8e-9f43-5a4ad0b8b0c1", "status": "active", "properties": {}, "min_disk": 0, "min_ram": 0}


@pytest.fixture
def ctx():
    project, user = make_project_user("proj")
    return Ctx(user, project, request_id="req-1234")


@pytest.fixture
def tiny():
    return Flavor.objects.get(name="m1.tiny")


@pytest.fixture
def small():
    return Flavor.objects.get(name="m1.small")


def usage(project, resource):
    return quotas.get_usages(project)[resource]


def test_create_one(ctx, tiny):
    make_host("h1", zone="nova")
    (inst,) = instances.create_instances(ctx, "My Server_1", tiny, IMAGE, metadata={"a": "b"})
    assert inst.display_name == "My Server_1"
    assert inst.hostname == "my-server-1"
    assert (inst.vm_state, inst.task_state, inst.power_state) == ("building", "scheduling", 0)
    assert inst.status == "BUILD"
    assert (inst.memory_mb, inst.vcpus, inst.root_gb, inst.flavorid, inst.flavor_name) == (512, 1, 0, "1", "m1.tiny")
    assert inst.image_ref == IMAGE["id"] and inst.metadata == {"a": "b"}
    assert inst.reservation_id.startswith("r-") and len(inst.reservation_id) == 10
    assert inst.launch_index == 0
    assert inst.ec2_id == "i-%08x" % inst.id and inst.name == "instance-%08x" % inst.id
    assert usage(ctx.project, "instances") == {"in_use": 1, "reserved": 0}
    assert usage(ctx.project, "cores") == {"in_use": 1, "reserved": 0}
    assert usage(ctx.project, "ram") == {"in_use": 512, "reserved": 0}
    action = InstanceAction.objects.get(instance=inst)
    assert (action.action, action.request_id, action.user_id) == ("create", "req-1234", ctx.user.id)


def test_multi_create(ctx, tiny):
    created = instances.create_instances(ctx, "web", tiny, IMAGE, min_count=2, max_count=3)
    assert len(created) == 3
    assert [i.launch_index for i in created] == [0, 1, 2]
    assert [i.hostname for i in created] == ["web-1", "web-2", "web-3"]
    assert {i.display_name for i in created} == {"web"}
    assert len({i.reservation_id for i in created}) == 1
    assert usage(ctx.project, "instances")["in_use"] == 3


def test_max_count_falls_back_to_what_fits(ctx, tiny):
    quotas.set_quota(ctx.project, "instances", 5)
    instances.create_instances(ctx, "a", tiny, IMAGE, min_count=2)
    created = instances.create_instances(ctx, "b", tiny, IMAGE, min_count=1, max_count=10)
    assert len(created) == 3  # 5 - 2 already used
    assert usage(ctx.project, "instances") == {"in_use": 5, "reserved": 0}
    with pytest.raises(OverQuota) as info:
        instances.create_instances(ctx, "c", tiny, IMAGE)
    assert info.value.code == 403
    assert info.value.message == "Quota exceeded for instances: Requested 1, but already used 5 of 5 instances"


def test_min_count_over_quota_creates_nothing(ctx, small):
    quotas.set_quota(ctx.project, "ram", 5000)  # m1.small is 2048 MB: 2 fit
    with pytest.raises(OverQuota, match="Quota exceeded for ram: Requested 8192, but already used 0 of 5000 ram"):
        instances.create_instances(ctx, "big", small, IMAGE, min_count=3, max_count=4)
    assert Instance.all_objects.count() == 0
    assert usage(ctx.project, "ram") == {"in_use": 0, "reserved": 0}
    assert len(instances.create_instances(ctx, "big", small, IMAGE, min_count=1, max_count=4)) == 2


def test_cores_limit_the_fallback(ctx, small):
    quotas.set_quota(ctx.project, "cores", 3)
    assert len(instances.create_instances(ctx, "c", small, IMAGE, max_count=5)) == 3


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"name": ""}, Invalid, "field/attribute name"),
        ({"name": " x"}, Invalid, "field/attribute name"),
        ({"name": "x" * 256}, Invalid, "field/attribute name"),
        ({"min_count": 3, "max_count": 2}, Invalid, "min_count must be <= max_count"),
        ({"min_count": 0}, Invalid, "min_count"),
        ({"metadata": {"k" * 256: "v"}}, Invalid, "Metadata property key"),
        ({"metadata": {"": "v"}}, Invalid, "Metadata property key"),
        ({"metadata": {"k": "v" * 256}}, Invalid, "Metadata property value"),
        ({"metadata": {"k": 1}}, Invalid, "must be strings"),
        ({"user_data": "not base64!"}, Invalid, "User data needs to be valid base 64."),
        ({"user_data": "QUJD" * 16384}, Invalid, "User data too large"),
        ({"key_name": "nope"}, Invalid, "Invalid key_name provided."),
        ({"availability_zone": "mars"}, Invalid, "The requested availability zone is not available"),
        ({"availability_zone": "nova:h1"}, Forbidden, "forced_host"),
        ({"scheduler_hints": {"same_host": ["not-a-uuid"]}}, Invalid, "is not a uuid"),
        ({"image": None}, Invalid, "Missing imageRef"),
        ({"image": {**IMAGE, "status": "queued"}}, Invalid, "is not active"),
        ({"image": {**IMAGE, "min_ram": 1024}}, Invalid, "Flavor's memory is too small"),
    ],
)
def test_validation(ctx, tiny, kwargs, error, message):
    make_host("h1")
    args = {"name": "vm", "flavor": tiny, "image": IMAGE, **kwargs}
    with pytest.raises(error, match=message):
        instances.create_instances(ctx, **args)
    assert Instance.all_objects.count() == 0


def test_disk_checks_and_metadata_quota(ctx, small):
    with pytest.raises(Invalid, match="Flavor's disk is too small"):
        instances.create_instances(ctx, "vm", small, {**IMAGE, "min_disk": 21})
    with pytest.raises(Invalid, match="Flavor's disk is too small"):
        instances.create_instances(ctx, "vm", small, {**IMAGE, "size": 21 * 1024**3})
    quotas.set_quota(ctx.project, "metadata_items", 2)
    with pytest.raises(OverQuota, match="Maximum number of metadata items exceeds 2"):
        instances.create_instances(ctx, "vm", small, IMAGE, metadata={"a": "1", "b": "2", "c": "3"})


def test_key_zone_userdata_kernel_and_forced_host(ctx, tiny):
    make_host("h1", zone="az1")
    KeyPair.objects.create(user=ctx.user, name="k", public_key="ssh-ed25519 AAAA x", fingerprint="f")
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    image = {**IMAGE, "properties": {"kernel_id": "kkk", "ramdisk_id": "rrr", "architecture": "x86_64"}}
    (inst,) = instances.create_instances(
        ctx, "vm", tiny, image, key_name="k", availability_zone="az1", user_data=user_data,
        networks=[{"uuid": "net-1"}], security_groups=["default"],
    )
    assert (inst.key_name, inst.key_data) == ("k", "ssh-ed25519 AAAA x")
    assert inst.availability_zone == "az1" and inst.user_data == user_data
    assert (inst.kernel_id, inst.ramdisk_id) == ("kkk", "rrr")
    assert inst.requested_networks == [{"uuid": "net-1"}] and inst.security_groups == ["default"]
    spec = RequestSpec.from_instance(inst)
    assert spec.availability_zone == "az1" and spec.image_properties["architecture"] == "x86_64"
    admin = Ctx(ctx.user, ctx.project, is_admin=True)
    (forced,) = instances.create_instances(admin, "vm", tiny, IMAGE, availability_zone="az1:h1")
    assert RequestSpec.from_instance(forced).force_hosts == ["h1"]


def test_get_instance_hides_other_projects_and_deleted(ctx, tiny):
    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    assert instances.get_instance(ctx, inst.uuid) == inst
    other_project, other_user = make_project_user("other")
    with pytest.raises(NotFound, match=f"Instance {inst.uuid} could not be found."):
        instances.get_instance(Ctx(other_user, other_project), inst.uuid)
    assert instances.get_instance(Ctx(other_user, other_project, is_admin=True), inst.uuid) == inst
    with pytest.raises(NotFound):
        instances.get_instance(ctx, "garbage")
    instances.soft_delete(inst)
    with pytest.raises(NotFound):
        instances.get_instance(ctx, inst.uuid)
    assert instances.get_instance(ctx, inst.uuid, include_deleted=True).vm_state == "deleted"
    assert not Instance.objects.filter(pk=inst.pk).exists()
    assert Instance.all_objects.filter(pk=inst.pk).exists()


def test_soft_delete_releases_quota_and_claim_once(ctx, tiny):
    make_host("h1")
    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    schedule_and_claim(RequestSpec.from_instance(inst))
    assert ComputeNode.objects.get(host="h1").memory_mb_used == 512
    assert instances.soft_delete(inst) is True
    assert instances.soft_delete(inst) is False
    inst.refresh_from_db()
    assert inst.vm_state == "deleted" and inst.deleted_at and inst.terminated_at and inst.status == "DELETED"
    assert usage(ctx.project, "instances") == {"in_use": 0, "reserved": 0}
    assert usage(ctx.project, "ram") == {"in_use": 0, "reserved": 0}
    node = ComputeNode.objects.get(host="h1")
    assert (node.memory_mb_used, node.num_instances) == (0, 0)
    assert Claim.objects.count() == 0
    assert instances.purge_deleted() == 1


def test_update_state_compare_and_swap(ctx, tiny):
    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    instances.update_state(inst, expected_task_state="scheduling", task_state="spawning")
    with pytest.raises(Conflict, match="Conflict updating instance"):
        instances.update_state(inst, expected_task_state="scheduling", task_state="networking")
    now = timezone.now()
    instances.update_state(
        inst, expected_task_state=["spawning"], vm_state="active", task_state=None, power_state=1, launched_at=now
    )
    inst.refresh_from_db()
    assert (inst.status, inst.power_state, inst.launched_at) == ("ACTIVE", 1, now)


def test_begin_checks_state_and_records_action(ctx, tiny):
    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    with pytest.raises(Conflict, match=f"Cannot 'pause' instance {inst.uuid} while it is in vm_state building"):
        instances.begin(inst, "pause", ctx, task_state=states.task.PAUSING)
    instances.update_state(inst, vm_state="active", task_state=None)
    action = instances.begin(inst, "reboot", ctx, task_state=states.task.REBOOTING_HARD, reboot_type="HARD")
    inst.refresh_from_db()
    assert inst.status == "HARD_REBOOT" and action.action == "reboot"
    with pytest.raises(Conflict, match="while it is in task_state rebooting_hard"):
        instances.begin(inst, "reboot", ctx, task_state=states.task.REBOOTING)


def test_faults_actions_and_events(ctx, tiny):
    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    action = actions.get_action(inst, "req-1234")
    with actions.event(action, "schedule", host="h1"):
        pass
    with pytest.raises(NoValidHost), actions.event(action, "build", host="h1"):
        raise NoValidHost("No valid host was found. (0 hosts)")
    actions.finish_action(action)
    events = list(actions.list_events(action))
    assert [(e.event, e.result, e.host) for e in events] == [("schedule", "Success", "h1"), ("build", "Error", "h1")]
    assert events[0].finish_time and events[1].finish_time
    assert "NoValidHost" in events[1].traceback
    action.refresh_from_db()
    assert action.message == "Error" and action.finish_time
    try:
        raise NoValidHost("No valid host was found. (0 hosts)")
    except NoValidHost as exc:
        fault = instances.set_error(inst, exc)
    assert (fault.code, fault.message) == (500, "No valid host was found. (0 hosts)")
    assert "Traceback" in fault.details
    inst.refresh_from_db()
    assert inst.status == "ERROR" and inst.task_state is None
    long = instances.record_fault(inst, "x" * 300, code=409, host="h9")
    assert len(long.message) == 255 and long.details == "x" * 300 and long.host == "h9"
    assert actions.latest_fault(inst) == long
    assert InstanceFault.objects.filter(instance=inst).count() == 2
    with actions.event(None, "noop"):
        pass


def test_retry_bookkeeping(ctx, tiny, settings):
    settings.SCHEDULER_MAX_ATTEMPTS = 2
    make_host("h1", memory_mb=8192)
    make_host("h2")
    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    claim = schedule_and_claim(RequestSpec.from_instance(inst))
    assert claim.host == "h1"
    # spawn failed on h1: release, remember, reschedule
    from compute.scheduler.claims import release

    release("h1", inst, clear_host=True)
    instances.record_retry(inst, "h1", "h1")
    assert not instances.max_attempts_reached(inst)
    assert schedule_and_claim(RequestSpec.from_instance(inst)).host == "h2"
    release("h2", inst, clear_host=True)
    instances.record_retry(inst, "h2", "h2")
    assert instances.max_attempts_reached(inst)
    with pytest.raises(NoValidHost, match="RetryFilter removed 2"):
        schedule_and_claim(RequestSpec.from_instance(inst))


def test_deleting_the_owner_keeps_the_instance(ctx, tiny):
    from identity.services import accounts as identity_services

    (inst,) = instances.create_instances(ctx, "vm", tiny, IMAGE)
    user_id = ctx.user.id
    identity_services.delete_user(ctx.user)
    kept = instances.get_instance(None, inst.uuid)
    assert kept.user_id == user_id and kept.status == "BUILD"
