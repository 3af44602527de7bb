"""The latest python-openstackclient on host aggregates, availability zones from aggregates,
server groups, lock/unlock and migrations, against the live API (real CLI processes)."""
import pytest

from cloudproj.testing.servers import boot, make_active
from compute.models import Instance, Service

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MEMBER = dict(user="demo-user", project="demo")


@pytest.fixture
def cloud(admin_account, member_account, compute_host, paths):
    compute_host("host-a")
    compute_host("host-b")


def test_latest_osc_aggregates_and_zones(latest_osc, cloud):
    created = latest_osc("aggregate", "create", "--zone", "az-fast", "fast")
    assert created["name"] == "fast" and created["availability_zone"] == "az-fast"
    zones = {row["Zone Name"] for row in latest_osc("availability", "zone", "list", "--compute", **MEMBER)}
    assert zones == {"nova"}
    added = latest_osc("aggregate", "add", "host", "fast", "host-b")
    assert added["hosts"] == ["host-b"]
    zones = {row["Zone Name"] for row in latest_osc("availability", "zone", "list", "--compute", **MEMBER)}
    assert zones == {"nova", "az-fast"}
    done = latest_osc("aggregate", "set", "--zone", "az-faster", "--property", "ssd=true", "fast", raw=True)
    assert done.returncode == 0, done.stderr
    shown = latest_osc("aggregate", "show", "fast")
    assert shown["availability_zone"] == "az-faster" and shown["hosts"] == ["host-b"]
    assert shown["properties"] == {"ssd": "true"}
    assert Service.objects.get(host="host-b", binary="nova-compute").availability_zone == "az-faster"
    assert [(r["Name"], r["Availability Zone"]) for r in latest_osc("aggregate", "list")] == [("fast", "az-faster")]
    refused = latest_osc("aggregate", "list", raw=True, check=False, **MEMBER)
    assert refused.returncode != 0 and "403" in refused.stderr
    assert latest_osc("aggregate", "remove", "host", "fast", "host-b")["hosts"] == []
    assert latest_osc("aggregate", "delete", "fast", raw=True).returncode == 0
    assert latest_osc("aggregate", "list") == []


def test_latest_osc_server_groups_lock_and_migrations(latest_osc, cloud, member_client, image):
    group = latest_osc("server", "group", "create", "--policy", "anti-affinity", "spread", **MEMBER)
    assert group["name"] == "spread" and "anti-affinity" in str(group["policy"] if "policy" in group
                                                                   else group["policies"])
    server_id = boot(member_client, image, "g1", hints={"group": group["id"]})["server"]["id"]
    shown = latest_osc("server", "group", "show", "spread", **MEMBER)
    assert server_id in str(shown["members"])
    assert [g["Name"] for g in latest_osc("server", "group", "list", **MEMBER)] == ["spread"]
    make_active(server_id)
    assert latest_osc("server", "lock", server_id, raw=True, **MEMBER).returncode == 0
    assert Instance.objects.get(uuid=server_id).locked
    refused = latest_osc("server", "stop", server_id, raw=True, check=False, **MEMBER)
    assert refused.returncode != 0 and "409" in refused.stderr and "locked" in refused.stderr
    assert latest_osc("server", "unlock", server_id, raw=True, **MEMBER).returncode == 0
    assert not Instance.objects.get(uuid=server_id).locked
    assert latest_osc("server", "migration", "list") == []
    assert latest_osc("server", "group", "delete", "spread", raw=True, **MEMBER).returncode == 0
