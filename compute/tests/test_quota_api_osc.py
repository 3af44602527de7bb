"""The real `openstack` CLI against a live server: quota show/set and limits show."""
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

def as_dict(rows):
    return {row["Resource"]: row["Limit"] for row in rows}

def test_quota_show_own_project(osc, admin_account):
    shown = as_dict(osc("quota", "show"))
    assert shown["instances"] == 10
    assert shown["cores"] == 20
    assert shown["ram"] == 51200
    assert shown["properties"] == 128  # metadata_items
    assert shown["volumes"] == 10
    assert shown["gigabytes"] == 1000
    assert shown["per-volume-gigabytes"] == -1

def test_quota_show_defaults(osc, admin_account):
    shown = as_dict(osc("quota", "show", "--default"))
    assert shown["instances"] == 10 and shown["snapshots"] == 10

def test_quota_set_then_show_another_project(osc, admin_account, make_account):
    make_account("p2", "member")
    osc("quota", "set", "--instances", "5", "--cores", "7", "--volumes", "3", "p2", raw=True)
    shown = as_dict(osc("quota", "show", "p2"))
    assert shown["instances"] == 5
    assert shown["cores"] == 7
    assert shown["volumes"] == 3
    assert shown["ram"] == 51200

    osc("quota", "delete", "p2", raw=True)
    shown = as_dict(osc("quota", "show", "p2"))
    assert (shown["instances"], shown["cores"], shown["volumes"]) == (10, 20, 10)

def test_quota_show_usage(osc, admin_account):
    from identity.services import quotas

    quotas.commit(quotas.reserve(admin_account[1], {"instances": 2, "volumes": 1}))
    rows = {row["Resource"]: row for row in osc("quota", "show", "--usage")}
    assert rows["instances"]["In Use"] == 2
    assert rows["volumes"]["In Use"] == 1

def test_member_cannot_set_quota(osc, admin_account, make_account):
    make_account("p3", "member", username="carol")
    proc = osc("quota", "set", "--instances", "50", "p3", user="carol", project="p3", check=False)
    assert proc.returncode != 0

def test_limits_show_absolute(osc, admin_account):
    from identity.services import quotas

    quotas.set_quota(admin_account[1], "instances", 6)
    limits = {row["Name"]: row["Value"] for row in osc("limits", "show", "--absolute")}
    # OSC prints the SDK's attribute names (maxTotalInstances -> max_total_instances).
    assert limits["max_total_instances"] == 6
    assert limits["max_total_cores"] == 20
    assert limits["max_total_ram_size"] == 51200
    assert limits["max_image_meta"] == 128
    assert limits["total_instances_used"] == 0
    assert limits["max_total_volumes"] == 10
    assert limits["total_gigabytes_used"] == 0

def test_limits_show_absolute_for_another_project(osc, admin_account, make_account):
    from identity.services import quotas

    _, p2, _ = make_account("p2", "member")
    quotas.set_quotas(p2, {"cores": 3, "volumes": 2})
    limits = {row["Name"]: row["Value"] for row in osc("limits", "show", "--absolute", "--project", "p2")}
    assert limits["max_total_cores"] == 3
    assert limits["max_total_volumes"] == 2
