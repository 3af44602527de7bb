"""The pinned `openstack` CLI (python-openstackclient 9.x) against a live server: with the
`network` entry in the catalog it manages floating IPs through the Networking API, as every
client does today (create from the pool's external network, list/show/delete,
`server add|remove floating ip` through the server's port), with quota and policy errors.
The server is placed on a host in the DB as the pipeline would leave it (no worker runs)."""
import pytest

from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from floating.services import pools, ranges
from identity.models import Project
from identity.services import quotas
from network.models import FixedIP
from network.services import fixed_ips, networks

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def placed(osc, image, admin_account, member_account):  # `image`: conftest's
    network = networks.create_network("fipnet", "10.239.0.0/24", bridge="cptfipu0", bridge_interface="")
    ranges.create_range("203.0.113.0/29", pool="public", interface="cptfipx0")
    server = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "vm1")
    row = Instance.objects.get(uuid=server["id"])
    fixed = fixed_ips.allocate_fixed_ip(network, row.uuid, host="fip-a", hostname="vm1")
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host="fip-a")
    return {"id": server["id"], "fixed": fixed.address, "port": str(FixedIP.objects.get(pk=fixed.pk).port_id)}


def test_floating_ips_through_the_openstack_cli(placed, osc):
    created = osc("floating", "ip", "create", "public")
    assert (created["floating_ip_address"], created["floating_network_id"], created["port_id"],
            created["fixed_ip_address"]) == ("203.0.113.1", pools.pool_network_id("public"), None, None)
    (listed,) = osc("floating", "ip", "list")
    assert (listed["ID"], listed["Floating IP Address"], listed["Fixed IP Address"], listed["Port"]) == (
        created["id"], "203.0.113.1", None, None)
    assert osc("floating", "ip", "show", "203.0.113.1")["id"] == created["id"]

    osc("server", "add", "floating", "ip", "vm1", "203.0.113.1", raw=True)
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [placed["fixed"], "203.0.113.1"]}
    (row,) = osc("floating", "ip", "list")
    assert (row["Fixed IP Address"], row["Port"]) == (placed["fixed"], placed["port"])
    bad = osc("server", "add", "floating", "ip", "--fixed-ip-address", "10.239.0.99", "vm1", "203.0.113.1",
              check=False, raw=True)
    assert bad.returncode == 1 and "No port found for fixed IP address 10.239.0.99" in bad.stderr

    osc("server", "remove", "floating", "ip", "vm1", "203.0.113.1", raw=True)
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [placed["fixed"]]}
    assert osc("floating", "ip", "show", created["id"])["port_id"] is None

    osc("floating", "ip", "delete", created["id"], raw=True)
    assert osc("floating", "ip", "list") == []
    gone = osc("floating", "ip", "show", created["id"], check=False)
    assert gone.returncode == 1


def test_cli_errors_quota_policy_and_pools(placed, osc):
    nopool = osc("floating", "ip", "create", "nopool", check=False)
    assert nopool.returncode == 1 and "nopool" in nopool.stderr
    quotas.set_quota(Project.objects.get(name="admin"), "floating_ips", 1)
    osc("floating", "ip", "create", "public")
    over = osc("floating", "ip", "create", "public", check=False)
    assert over.returncode == 1 and "Quota exceeded for resources: ['floatingip']" in over.stderr
    # a plain member of a project may list, not allocate (the seeds' netadmin rule)
    assert osc("floating", "ip", "list", user="demo-user", project="demo") == []
    denied = osc("floating", "ip", "create", "public", user="demo-user", project="demo", check=False)
    assert denied.returncode == 1 and "compute:floating_ips:create" in denied.stderr
