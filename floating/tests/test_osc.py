"""The real `openstack` CLI against a live server: floating IP pools, create/list/show/delete,
`server add|remove floating ip`, quota and policy errors. The server is placed on a host in
the DB as the pipeline would leave it (no worker runs). Needs a client that still speaks
nova-network (python-openstackclient 9.x, as pinned in requirements-dev.txt)."""
import pytest

from cloudproj.testing.osc import osc_nova_network_floating_ips_missing as osc_nova_network_missing
from compute import states
from compute.models import Instance
from compute.services import instances as instance_service
from floating.services import ranges
from identity.services import quotas
from identity.models import Project
from network.services import fixed_ips, networks

missing = osc_nova_network_missing()
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(bool(missing), reason=missing or "")]


@pytest.fixture
def placed(osc, image, admin_account, member_account):  # `image`: conftest's
    network = networks.create_network("fipnet", "10.239.0.0/24", bridge="cptfipu0", bridge_interface="")
    ranges.create_range("203.0.113.0/29", pool="public", interface="cptfipx0")
    server = osc("server", "create", "--image", "tiny-img", "--flavor", "m1.tiny", "vm1")
    row = Instance.objects.get(uuid=server["id"])
    fixed = fixed_ips.allocate_fixed_ip(network, row.uuid, host="fip-a", hostname="vm1")
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host="fip-a")
    return {"id": server["id"], "fixed": fixed.address}


def test_floating_ips_through_the_openstack_cli(placed, osc):
    assert osc("floating", "ip", "pool", "list") == [{"Name": "public"}]
    created = osc("floating", "ip", "create", "public")
    assert created == {"fixed_ip": None, "id": created["id"], "instance_id": None, "ip": "203.0.113.1",
                       "pool": "public"}
    listed = osc("floating", "ip", "list")
    assert listed == [{"ID": created["id"], "Floating IP Address": "203.0.113.1", "Fixed IP Address": None,
                       "Server": None, "Pool": "public"}]
    assert osc("floating", "ip", "show", "203.0.113.1")["id"] == created["id"]

    osc("server", "add", "floating", "ip", "vm1", "203.0.113.1", raw=True)
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [placed["fixed"], "203.0.113.1"]}
    (row,) = osc("floating", "ip", "list")
    assert (row["Fixed IP Address"], row["Server"]) == (placed["fixed"], placed["id"])
    bad = osc("server", "add", "floating", "ip", "--fixed-ip-address", "10.239.0.99", "vm1", "203.0.113.1",
              check=False, raw=True)
    assert bad.returncode == 1 and "not assigned to instance" in bad.stderr

    osc("server", "remove", "floating", "ip", "vm1", "203.0.113.1", raw=True)
    assert osc("server", "show", "vm1")["addresses"] == {"fipnet": [placed["fixed"]]}
    again = osc("server", "remove", "floating", "ip", "vm1", "203.0.113.1", check=False, raw=True)
    assert again.returncode == 1 and "is not associated" in again.stderr

    osc("floating", "ip", "delete", created["id"], raw=True)
    assert osc("floating", "ip", "list") == []
    gone = osc("floating", "ip", "show", created["id"], check=False)
    assert gone.returncode == 1 and "not found" in gone.stderr.lower()


def test_cli_errors_quota_policy_and_pools(placed, osc):
    nopool = osc("floating", "ip", "create", "nopool", check=False)
    assert nopool.returncode == 1 and "Floating IP pool nopool not found" in nopool.stderr
    quotas.set_quota(Project.objects.get(name="admin"), "floating_ips", 1)
    osc("floating", "ip", "create", "public")
    over = osc("floating", "ip", "create", "public", check=False)
    assert over.returncode == 1 and "Maximum number of floating IPs exceeded" in over.stderr
    # a plain member of a project may list, not allocate (the seeds' netadmin rule)
    assert osc("floating", "ip", "list", user="demo-user", project="demo") == []
    denied = osc("floating", "ip", "create", "public", user="demo-user", project="demo", check=False)
    assert denied.returncode == 1 and "compute:floating_ips:create" in denied.stderr
