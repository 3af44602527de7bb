"""The latest python-openstackclient on os-hosts and os-simple-tenant-usage: `openstack host
list/show/set` and `openstack usage list/show` against the live API."""
from datetime import timedelta

import pytest
from django.utils import timezone

from compute.models import Instance, Service
from compute.services import hosts

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MEMBER = dict(user="demo-user", project="demo")


@pytest.fixture
def cloud(admin_account, member_account, compute_host, image):
    compute_host("host-a")
    hosts.register_service("controller", "nova-scheduler")
    # an m1.small (1 vCPU, 2048 MB, 20 GB) that has run for 10 hours on host-a
    Instance.objects.create(project=member_account[1], user_id=member_account[0].id, display_name="runner",
                            flavor_name="m1.small", vcpus=1, memory_mb=2048, root_gb=20, ephemeral_gb=0,
                            vm_state="active", host="host-a", launched_at=timezone.now() - timedelta(hours=10))
    return member_account[1]


def test_latest_osc_hosts(latest_osc, cloud):
    rows = latest_osc("host", "list")
    assert sorted((r["Host Name"], r["Service"], r["Zone"]) for r in rows) == [
        ("controller", "scheduler", "internal"), ("host-a", "compute", "nova"),
        ("host-a", "network", "internal"), ("host-a", "volume", "internal")]
    assert [r["Host Name"] for r in latest_osc("host", "list", "--zone", "nova")] == ["host-a"]
    shown = latest_osc("host", "show", "host-a")
    by_project = {r["Project"]: (r["CPU"], r["Memory MB"], r["Disk GB"]) for r in shown}
    assert by_project["(used_max)"] == (1, 2048, 20)
    assert by_project[str(cloud.id)] == (1, 2048, 20)
    assert by_project["(total)"][0] == 16
    done = latest_osc("host", "set", "--disable", "host-a", raw=True)
    assert done.returncode == 0, done.stderr
    assert Service.objects.get(host="host-a", binary="nova-compute").disabled
    refused = latest_osc("host", "list", raw=True, check=False, **MEMBER)
    assert refused.returncode != 0 and "403" in refused.stderr


def test_latest_osc_usage(latest_osc, cloud):
    start = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    end = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    rows = latest_osc("usage", "list", "--start", start, "--end", end)
    assert len(rows) == 1
    (row,) = rows
    # the SDK asks detailed=True and Nova details only for detailed=1: no server count (as Nova)
    assert row["Servers"] is None, row
    assert float(row["CPU Hours"]) == pytest.approx(10, abs=0.1)
    assert float(row["RAM MB-Hours"]) == pytest.approx(20480, abs=100)
    assert float(row["Disk GB-Hours"]) == pytest.approx(200, abs=1)
    mine = latest_osc("usage", "show", "--start", start, "--end", end, **MEMBER)
    assert [(u["name"], u["flavor"], u["state"]) for u in mine["Servers"]] == [("runner", "m1.small", "active")]
    assert float(mine["CPU Hours"]) == pytest.approx(10, abs=0.1)
