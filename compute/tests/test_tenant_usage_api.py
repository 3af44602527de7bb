"""os-simple-tenant-usage and os-instance_usage_audit_log as Nova 2.1 documents them: usage
computed from the instances' launched_at / terminated_at and their flavors."""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import quote, urlencode

import pytest
from django.utils import timezone

from cloudproj.testing.servers import boot, error, instance, make_active
from compute.models import Instance
from compute.services import instances as instance_service

API = "/compute/v2.1"
TOTAL_KEYS = {"tenant_id", "total_hours", "total_vcpus_usage", "total_memory_mb_usage", "total_local_gb_usage",
              "start", "stop"}
SERVER_KEYS = {"instance_id", "name", "tenant_id", "flavor", "hours", "vcpus", "memory_mb", "local_gb",
               "started_at", "ended_at", "state", "uptime"}
FMT = "%Y-%m-%dT%H:%M:%S.%f"


def naive(value: str) -> datetime:
    """Nova renders UTC times without an offset."""
    assert "+" not in value and not value.endswith("Z")
    return datetime.fromisoformat(value).replace(tzinfo=dt_timezone.utc)


@pytest.fixture
def usage_cloud(member_client, other_client, image, member_account):
    """demo: `small` (m1.small) launched 10 h ago and running, `gone` (m1.medium) launched 30 h
    ago and deleted 20 h ago; other: `theirs` (m1.tiny) launched 5 h ago. Times relative to now."""
    now = timezone.now()
    small = make_active(boot(member_client, image, "small", flavorRef="2")["server"]["id"])
    gone = make_active(boot(member_client, image, "gone", flavorRef="3")["server"]["id"])
    theirs = make_active(boot(other_client, image, "theirs")["server"]["id"])
    never = boot(member_client, image, "never-launched")["server"]["id"]  # BUILD: used nothing
    Instance.objects.filter(pk=instance(small.uuid).pk).update(launched_at=now - timedelta(hours=10))
    Instance.objects.filter(pk=instance(gone.uuid).pk).update(launched_at=now - timedelta(hours=30))
    Instance.objects.filter(pk=instance(theirs.uuid).pk).update(launched_at=now - timedelta(hours=5))
    instance_service.soft_delete(instance(gone.uuid))
    Instance.all_objects.filter(pk=instance(gone.uuid).pk).update(
        terminated_at=now - timedelta(hours=20), deleted_at=now - timedelta(hours=20))
    return {"now": now, "small": str(small.uuid), "gone": str(gone.uuid), "theirs": str(theirs.uuid),
            "never": never, "demo": str(member_account[1].id), "other": str(theirs.project_id)}


def query(start, end, **extra):
    return "?" + urlencode({"start": start.strftime(FMT), "end": end.strftime(FMT), **extra})


def test_list_all_projects_detailed(admin_client, usage_cloud):
    now = usage_cloud["now"]
    resp = admin_client.get(f"{API}/os-simple-tenant-usage" + query(now - timedelta(days=2), now + timedelta(days=1),
                                                                      detailed="1"))
    assert resp.status_code == 200
    assert set(resp.json()) == {"tenant_usages"}
    usages = {u["tenant_id"]: u for u in resp.json()["tenant_usages"]}
    assert set(usages) == {usage_cloud["demo"], usage_cloud["other"]}
    demo = usages[usage_cloud["demo"]]
    assert set(demo) == TOTAL_KEYS | {"server_usages"}
    # the end is capped at now; the start is the asked one
    assert naive(demo["start"]) == (now - timedelta(days=2)).replace(microsecond=(now.microsecond))
    assert abs((naive(demo["stop"]) - timezone.now()).total_seconds()) < 60
    servers = {s["instance_id"]: s for s in demo["server_usages"]}
    assert set(servers) == {usage_cloud["small"], usage_cloud["gone"]}  # never launched: not listed
    assert all(set(s) == SERVER_KEYS for s in servers.values())
    small, gone = servers[usage_cloud["small"]], servers[usage_cloud["gone"]]
    assert (small["name"], small["flavor"], small["vcpus"], small["memory_mb"], small["local_gb"]) == (
        "small", "m1.small", 1, 2048, 20)
    assert (small["state"], small["ended_at"], small["tenant_id"]) == ("active", None, usage_cloud["demo"])
    assert small["hours"] == pytest.approx(10, abs=0.05)
    assert small["uptime"] == pytest.approx(36000, abs=120) and isinstance(small["uptime"], int)
    assert naive(small["started_at"]) == now - timedelta(hours=10)
    assert (gone["state"], gone["flavor"], gone["vcpus"], gone["memory_mb"], gone["local_gb"]) == (
        "terminated", "m1.medium", 2, 4096, 40)
    assert gone["hours"] == pytest.approx(10, abs=0.001)
    assert gone["uptime"] == 36000
    assert naive(gone["ended_at"]) == now - timedelta(hours=20)
    assert demo["total_hours"] == pytest.approx(20, abs=0.05)
    assert demo["total_vcpus_usage"] == pytest.approx(10 * 1 + 10 * 2, abs=0.1)
    assert demo["total_memory_mb_usage"] == pytest.approx(10 * 2048 + 10 * 4096, abs=200)
    assert demo["total_local_gb_usage"] == pytest.approx(10 * 20 + 10 * 40, abs=2)
    other = usages[usage_cloud["other"]]
    assert other["total_hours"] == pytest.approx(5, abs=0.05)
    assert [s["name"] for s in other["server_usages"]] == ["theirs"]


def test_list_without_detail_and_a_period_clipping_instances(admin_client, usage_cloud):
    now = usage_cloud["now"]
    # 25 h ago to 2 h ago: `gone` ran 5 h of it, `small` 8 h, `theirs` 3 h
    resp = admin_client.get(f"{API}/os-simple-tenant-usage" + query(now - timedelta(hours=25),
                                                                      now - timedelta(hours=2)))
    usages = {u["tenant_id"]: u for u in resp.json()["tenant_usages"]}
    assert all(set(u) == TOTAL_KEYS for u in usages.values())  # no server_usages without detailed=1
    assert usages[usage_cloud["demo"]]["total_hours"] == pytest.approx(13, abs=0.01)
    assert usages[usage_cloud["demo"]]["total_vcpus_usage"] == pytest.approx(8 * 1 + 5 * 2, abs=0.01)
    assert usages[usage_cloud["other"]]["total_hours"] == pytest.approx(3, abs=0.01)
    assert naive(usages[usage_cloud["demo"]]["stop"]) == (now - timedelta(hours=2))
    # a period before anything launched: no project at all
    resp = admin_client.get(f"{API}/os-simple-tenant-usage" + query(now - timedelta(days=9), now - timedelta(days=8)))
    assert resp.json() == {"tenant_usages": []}


def test_show_own_project(member_client, admin_client, usage_cloud):
    now = usage_cloud["now"]
    q = query(now - timedelta(days=1), now + timedelta(days=1))
    for client in (member_client, admin_client):
        resp = client.get(f"{API}/os-simple-tenant-usage/{usage_cloud['demo']}" + q)
        assert resp.status_code == 200
        body = resp.json()["tenant_usage"]
        assert set(body) == TOTAL_KEYS | {"server_usages"}  # always detailed
        assert body["tenant_id"] == usage_cloud["demo"]
        # from a day ago: `gone` ran 4 h of it, `small` 10 h
        assert body["total_hours"] == pytest.approx(14, abs=0.05)
        assert sorted(s["name"] for s in body["server_usages"]) == ["gone", "small"]


def test_show_another_project_is_hidden_from_a_member(member_client, usage_cloud):
    now = usage_cloud["now"]
    resp = member_client.get(f"{API}/os-simple-tenant-usage/{usage_cloud['other']}"
                             + query(now - timedelta(days=1), now))
    error(resp, 404)


def test_show_a_project_without_usage_is_empty(admin_client, usage_cloud):
    now = usage_cloud["now"]
    resp = admin_client.get(f"{API}/os-simple-tenant-usage/{usage_cloud['demo']}"
                            + query(now - timedelta(days=9), now - timedelta(days=8)))
    assert resp.json() == {"tenant_usage": {}}


def test_list_is_admin_only(member_client, usage_cloud):
    error(member_client.get(f"{API}/os-simple-tenant-usage?detailed=1"), 403)


@pytest.mark.parametrize("params", [
    {"start": "2026-12-02T00:00:00", "end": "2026-12-01T00:00:00"},  # start after end
    {"start": "2026-12-01T00:00:00", "end": "2026-12-01T00:00:00"},  # empty period
    {"start": "yesterday", "end": "2026-12-01T00:00:00"},
    {"start": "2026-12-01T00:00:00+00:00"},
])
def test_bad_periods_are_400(admin_client, usage_cloud, params):
    error(admin_client.get(f"{API}/os-simple-tenant-usage?" + urlencode(params)), 400)
    error(admin_client.get(f"{API}/os-simple-tenant-usage/{usage_cloud['demo']}?" + urlencode(params)), 400)


def test_accepted_time_formats(admin_client, usage_cloud):
    for start in ("2026-01-01T00:00:00", "2026-01-01T00:00:00.5", "2026-01-01 00:00:00.000001"):
        resp = admin_client.get(f"{API}/os-simple-tenant-usage?" + urlencode({"start": start}))
        assert resp.status_code == 200, start
        assert resp.json()["tenant_usages"][0]["start"].startswith("2026-01-01T00:00:00")


def test_empty_project_id_is_404(admin_client, usage_cloud):
    error(admin_client.get(f"{API}/os-simple-tenant-usage/?start=2026-01-01T00:00:00"), 404)


# --- os-instance_usage_audit_log -----------------------------------------------------------

AUDIT_KEYS = {"hosts_not_run", "log", "num_hosts", "num_hosts_done", "num_hosts_not_run", "num_hosts_running",
              "overall_status", "period_beginning", "period_ending", "total_errors", "total_instances"}


def test_audit_log_reports_no_audit_ran(admin_client, compute_host):
    compute_host("host-a")
    compute_host("host-b")
    resp = admin_client.get(f"{API}/os-instance_usage_audit_log")
    assert resp.status_code == 200
    body = resp.json()["instance_usage_audit_logs"]
    assert set(body) == AUDIT_KEYS
    now = timezone.now()
    this_month = datetime(now.year, now.month, 1)
    assert body["period_ending"] == str(this_month)
    assert datetime.fromisoformat(body["period_beginning"]) < this_month
    assert (body["num_hosts"], body["num_hosts_done"], body["num_hosts_running"]) == (2, 0, 0)
    assert (body["num_hosts_not_run"], sorted(body["hosts_not_run"])) == (2, ["host-a", "host-b"])
    assert (body["total_instances"], body["total_errors"], body["log"]) == (0, 0, {})
    assert body["overall_status"] == "0 of 2 hosts done. 0 errors."


@pytest.mark.parametrize("before, begin, end", [
    ("2012-07-05 10:00:00", "2012-06-01 00:00:00", "2012-07-01 00:00:00"),
    ("2012-01-01 00:00:00.000000", "2011-11-01 00:00:00", "2011-12-01 00:00:00"),
    ("2012-03-01 00:00:00.1", "2012-02-01 00:00:00", "2012-03-01 00:00:00"),
])
def test_audit_log_before(admin_client, before, begin, end):
    resp = admin_client.get(f"{API}/os-instance_usage_audit_log/{quote(before)}")
    assert resp.status_code == 200
    body = resp.json()["instance_usage_audit_log"]
    assert set(body) == AUDIT_KEYS
    assert (body["period_beginning"], body["period_ending"]) == (begin, end)
    assert body["overall_status"] == "ALL hosts done. 0 errors."  # no compute host at all


def test_audit_log_bad_timestamp_and_members(admin_client, member_client):
    assert "Invalid timestamp" in error(admin_client.get(f"{API}/os-instance_usage_audit_log/2012-07-05"), 400)
    # no whole month ends before February of year 1: a 400, not a crash
    error(admin_client.get(f"{API}/os-instance_usage_audit_log/{quote('0001-02-01 00:00:00')}"), 400)
    ok = admin_client.get(f"{API}/os-instance_usage_audit_log/{quote('0001-02-01 00:00:01')}")
    assert ok.json()["instance_usage_audit_log"]["period_beginning"] == "0001-01-01 00:00:00"
    error(member_client.get(f"{API}/os-instance_usage_audit_log"), 403)
    error(member_client.get(f"{API}/os-instance_usage_audit_log/{quote('2012-07-05 10:00:00')}"), 403)
