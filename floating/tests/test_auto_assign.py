"""AUTO_ASSIGN_FLOATING_IP (the seeds' --auto_assign_floating_ip): the allocate_ip step's host
hook gives a new instance a floating IP of the default pool, shown in its addresses; deleting
the instance puts the address back in the pool and the project's quota usage down."""
import pytest

from cloudproj.host import hooks as host_hooks
from cloudproj.testing.floating import HOST, boot_placed, synced
from cloudproj.testing.servers import API
from floating.models import FloatingIP
from floating.services import addresses, auto_assign
from identity.services import quotas

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto(settings):
    settings.AUTO_ASSIGN_FLOATING_IP = True
    settings.DEFAULT_FLOATING_POOL = "public"


def test_a_new_instance_gets_a_floating_ip_and_gives_it_back(auto, pool, member_client, member_account, image,
                                                             fixed_network, django_capture_on_commit_callbacks, sent):
    server = boot_placed(member_client, image, fixed_network)
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_assign.assign in host_hooks.registered("after_network")  # what the allocate_ip step runs
        auto_assign.assign(server, HOST)
        auto_assign.assign(server, HOST)  # re-delivered: the same address
    (row,) = FloatingIP.objects.filter(instance_uuid=server.uuid)
    assert row.auto_assigned and row.project_id == member_account[1].id and row.host == HOST
    assert HOST in synced(sent)
    shown = member_client.get(f"{API}/servers/{server.uuid}").json()["server"]["addresses"]["fipnet"]
    assert {"addr": row.address, "version": 4, "OS-EXT-IPS:type": "floating"}.items() <= shown[-1].items()
    assert quotas.get_usages(member_account[1])["floating_ips"]["in_use"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        addresses.disassociate_instance(server.uuid)
    row.refresh_from_db()
    assert (row.project_id, row.instance_uuid, row.auto_assigned) == (None, None, False)
    assert quotas.get_usages(member_account[1])["floating_ips"]["in_use"] == 0


def test_an_instance_still_boots_when_no_address_is_left(auto, pool, member_client, member_account, image,
                                                        fixed_network, caplog):
    quotas.set_quota(member_account[1], "floating_ips", 0)
    server = boot_placed(member_client, image, fixed_network)
    assert auto_assign.assign(server, HOST) is None  # no exception: the step goes on
    assert not FloatingIP.objects.filter(instance_uuid=server.uuid).exists()
    assert "no floating IP auto-assigned" in caplog.text and "Maximum number of floating IPs" in caplog.text


def test_off_by_default(pool, member_client, image, fixed_network):
    server = boot_placed(member_client, image, fixed_network)
    assert auto_assign.assign(server, HOST) is None
    assert not FloatingIP.objects.filter(instance_uuid=server.uuid).exists()
