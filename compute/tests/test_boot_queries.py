"""The per-boot path's cost guard (issue 21): SQL queries and messages of each step of one
boot, from POST /servers to ACTIVE, run in this process (libvirt's test driver, a simulated
fleet of 3 hosts registered here; messages recorded, not sent). The limits are the counts
reached after the cuts; a change that adds a query to a step fails here and must say why.
No timing is asserted (bench/boot_profile.py prints the times)."""
import pytest

from cloudproj.testing.boot_profile import profile_boot
from cloudproj.testing.clients import TokenClient
from compute import fleet
from compute.models import Flavor, InstanceActionEvent
from compute.services import host_resources
from identity.services import quotas
from images.services.registry import register_image
from network.services.networks import create_network

pytestmark = pytest.mark.django_db(transaction=True)

# step: (at most queries, messages published). After this branch's cuts 21/23/14/5/7 (70); main
# then cut the placement (schedule 19) and added implied roles to token checks (post +2) and
# boot from volume's root-disk lookup (fetch_image, spawn +1 each), and cold migration's floating
# IPs that follow a moved server (allocate_ip +1: the after_network hook looks for them).
LIMITS = {"post": (23, 1), "schedule": (19, 1), "allocate_ip": (15, 1), "fetch_image": (6, 0), "spawn": (8, 0)}


@pytest.fixture
def world(settings, tmp_path, member_account, monkeypatch):
    settings.STATE_PATH = tmp_path
    settings.INSTANCES_PATH = tmp_path / "instances"
    settings.IMAGE_CACHE_PATH = tmp_path / "instances" / "_base"
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    monkeypatch.setattr(host_resources, "_host_drivers", {})
    _user, project, token = member_account
    quotas.set_quotas(project, {"instances": 20, "cores": 20, "ram": 20 * 1024})
    Flavor.objects.create(flavorid="q.nano", name="q.nano", memory_mb=64, vcpus=1, root_gb=0)
    disk = tmp_path / "nano.raw"
    disk.write_bytes(b"\0" * 65536)
    image = register_image(disk, "q-image", disk_format="raw", visibility="public", owner=project)
    create_network("qnet", "10.253.8.0/24", bridge="cptq0", host="q-dhcp")  # served elsewhere: one message
    fleet.start_fleet(fleet.host_names(3, "q-"), 4096, 4, interval=3600)
    yield {"client": TokenClient(token), "image": str(image.id)}
    fleet.stop_fleet()


def _boot(world, name):
    body = {"server": {"name": name, "flavorRef": "q.nano", "imageRef": world["image"]}}
    return {step.name: step for step in profile_boot(world["client"], body)}


def test_each_step_of_a_boot_stays_within_its_queries_and_messages(world):
    _boot(world, "warm")  # the first boot creates the quota usage rows
    steps = _boot(world, "counted")
    assert list(steps) == list(LIMITS)
    counted = {name: (step.queries, step.messages) for name, step in steps.items()}
    over = {name: (counted[name], LIMITS[name]) for name in LIMITS
            if counted[name][0] > LIMITS[name][0] or counted[name][1] != LIMITS[name][1]}
    assert not over, "\n".join(f"{n}: {c} queries/messages, limit {lim}" for n, (c, lim) in over.items()) + "\n" + \
        "\n".join(f"-- {n}\n" + "\n".join(s.sql) for n, s in steps.items() if n in over)
    assert sum(q for q, _m in counted.values()) <= 71


def test_the_cut_path_still_records_every_step_and_the_quota(world, member_account):
    _boot(world, "one")
    _boot(world, "two")
    events = InstanceActionEvent.objects.filter(action__instance__display_name="two").order_by("start_time")
    assert [(e.event, e.result) for e in events] == [
        ("schedule", "Success"), ("allocate_ip", "Success"), ("fetch_image", "Success"), ("spawn", "Success")]
    assert all(e.action.finish_time for e in events)
    usages = quotas.get_usages(member_account[1])
    assert (usages["instances"]["in_use"], usages["cores"]["in_use"], usages["ram"]["in_use"]) == (2, 2, 128)
    assert usages["instances"]["reserved"] == 0
