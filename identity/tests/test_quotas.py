"""The quota engine: limits, overrides, usage, reserve/commit/rollback/expiry."""
from datetime import timedelta

import pytest
from django.utils import timezone

from identity.services import quotas, accounts
from identity.models import QuotaUsage, Reservation


@pytest.fixture
def project(db):
    return accounts.create_project("quota-p")


def test_defaults_come_from_settings_and_builtins(project, settings):
    settings.QUOTA_DEFAULTS = {**settings.QUOTA_DEFAULTS, "instances": 7}
    defaults = quotas.get_defaults()
    assert defaults["instances"] == 7
    assert defaults["cores"] == 20 and defaults["ram"] == 51200
    assert defaults["fixed_ips"] == -1
    assert defaults["per_volume_gigabytes"] == -1 and defaults["backups"] == 10
    assert quotas.get_quotas(project) == defaults


def test_set_and_delete_quotas(project):
    assert quotas.set_quota(project, "instances", 5) == 5
    assert quotas.set_quotas(project, {"cores": "8", "ram": -1}) == {"cores": 8, "ram": -1}
    got = quotas.get_quotas(project)
    assert (got["instances"], got["cores"], got["ram"]) == (5, 8, -1)
    quotas.set_quota(project, "instances", 6)
    assert quotas.get_quotas(project)["instances"] == 6
    assert quotas.delete_quotas(project, ["instances"]) == 1
    assert quotas.get_quotas(project)["instances"] == 10
    quotas.delete_quotas(project)
    assert quotas.get_quotas(project) == quotas.get_defaults()


@pytest.mark.parametrize("value", [-2, "many", 1.5, True, None, [], 2**31, "1-"])
def test_invalid_limits_are_refused(project, value):
    with pytest.raises(quotas.InvalidQuotaValue):
        quotas.set_quota(project, "instances", value)
    assert quotas.get_quotas(project)["instances"] == 10


def test_unknown_resource_is_refused(project):
    with pytest.raises(quotas.UnknownResource):
        quotas.set_quota(project, "unicorns", 1)
    with pytest.raises(quotas.UnknownResource):
        quotas.reserve(project, {"unicorns": 1})


def test_set_quotas_is_all_or_nothing(project):
    with pytest.raises(quotas.InvalidQuotaValue):
        quotas.set_quotas(project, {"instances": 3, "cores": "lots"})
    assert quotas.get_quotas(project)["instances"] == 10


def test_lowering_below_usage_needs_force(project):
    quotas.commit(quotas.reserve(project, {"instances": 3}))
    quotas.reserve(project, {"instances": 1})
    with pytest.raises(quotas.InvalidQuotaValue, match="instances"):
        quotas.set_quota(project, "instances", 3)
    assert quotas.set_quota(project, "instances", 4) == 4
    assert quotas.set_quota(project, "instances", -1) == -1
    assert quotas.set_quota(project, "instances", 1, force=True) == 1
    assert quotas.get_quotas(project)["instances"] == 1


def test_reserve_commit_rollback(project):
    quotas.set_quotas(project, {"instances": 2, "cores": 4})
    first = quotas.reserve(project, {"instances": 1, "cores": 2})
    usages = quotas.get_usages(project)
    assert usages["instances"] == {"in_use": 0, "reserved": 1}
    assert usages["cores"] == {"in_use": 0, "reserved": 2}
    assert usages["ram"] == {"in_use": 0, "reserved": 0}
    quotas.commit(first)
    assert quotas.get_usages(project)["cores"] == {"in_use": 2, "reserved": 0}
    second = quotas.reserve(project, {"instances": 1, "cores": 2})
    with pytest.raises(quotas.OverQuota) as info:
        quotas.reserve(project, {"instances": 1, "cores": 1})
    assert info.value.overs == ["cores", "instances"]
    assert info.value.quotas == {"cores": 4, "instances": 2}
    assert info.value.usages == {"cores": 4, "instances": 2}
    assert "instances" in str(info.value) and "limit 2" in str(info.value)
    quotas.rollback(second)
    assert quotas.get_usages(project)["instances"] == {"in_use": 1, "reserved": 0}
    assert not Reservation.objects.exists()
    with pytest.raises(quotas.ReservationNotFound):
        quotas.commit(second)
    with pytest.raises(quotas.ReservationNotFound):
        quotas.rollback("not-a-uuid")


def test_consume_takes_quota_at_once_counting_what_others_reserved(project):
    quotas.set_quotas(project, {"instances": 3, "cores": 4})
    pending = quotas.reserve(project, {"instances": 1, "cores": 1})
    quotas.consume(project, {"instances": 1, "cores": 2})
    assert quotas.get_usages(project)["cores"] == {"in_use": 2, "reserved": 1}
    with pytest.raises(quotas.OverQuota) as info:
        quotas.consume(project, {"instances": 1, "cores": 2})
    assert info.value.overs == ["cores"] and info.value.usages["cores"] == 3
    assert quotas.get_usages(project)["instances"] == {"in_use": 1, "reserved": 1}
    quotas.commit(pending)
    quotas.consume(project, {"instances": -1, "cores": -9})  # giving back never refuses, never below 0
    assert quotas.get_usages(project)["cores"] == {"in_use": 0, "reserved": 0}
    assert not Reservation.objects.exists()
    with pytest.raises(quotas.InvalidQuotaValue):
        quotas.consume(project, {"instances": True})


def test_over_quota_reserves_nothing(project):
    quotas.set_quota(project, "cores", 1)
    with pytest.raises(quotas.OverQuota) as info:
        quotas.reserve(project, {"instances": 1, "cores": 2})
    assert info.value.overs == ["cores"]
    assert quotas.get_usages(project)["instances"]["reserved"] == 0
    assert not Reservation.objects.exists()


def test_negative_deltas_always_allowed_and_apply_on_commit(project):
    quotas.commit(quotas.reserve(project, {"instances": 2}))
    quotas.set_quota(project, "instances", 1, force=True)
    freeing = quotas.reserve(project, {"instances": -1})
    assert quotas.get_usages(project)["instances"] == {"in_use": 2, "reserved": 0}
    quotas.commit(freeing)
    assert quotas.get_usages(project)["instances"] == {"in_use": 1, "reserved": 0}
    quotas.rollback(quotas.reserve(project, {"instances": -1}))
    assert quotas.get_usages(project)["instances"] == {"in_use": 1, "reserved": 0}


def test_unlimited_never_refuses(project):
    quotas.set_quota(project, "ram", -1)
    quotas.commit(quotas.reserve(project, {"ram": 10**9}))
    assert quotas.get_usages(project)["ram"]["in_use"] == 10**9


def test_zero_deltas_and_bad_deltas(project):
    assert quotas.reserve(project, {"instances": 0})
    assert not QuotaUsage.objects.exists()
    with pytest.raises(quotas.InvalidQuotaValue):
        quotas.reserve(project, {"instances": "1"})


def test_expire_reservations_rolls_back_expired_only(project):
    old = quotas.reserve(project, {"instances": 1, "cores": 1}, expire=-1)
    fresh = quotas.reserve(project, {"instances": 2}, expire=timedelta(hours=1))
    assert quotas.get_usages(project)["instances"]["reserved"] == 3
    assert quotas.expire_reservations() == 1
    usages = quotas.get_usages(project)
    assert usages["instances"] == {"in_use": 0, "reserved": 2}
    assert usages["cores"] == {"in_use": 0, "reserved": 0}
    with pytest.raises(quotas.ReservationNotFound):
        quotas.commit(old)
    assert quotas.expire_reservations(now=timezone.now() + timedelta(hours=2)) == 1
    with pytest.raises(quotas.ReservationNotFound):
        quotas.commit(fresh)


def test_default_expiry_uses_settings(project, settings):
    settings.RESERVATION_EXPIRE = 60
    quotas.reserve(project, {"instances": 1})
    expires = Reservation.objects.get().expires_at
    assert timedelta(seconds=50) < expires - timezone.now() <= timedelta(seconds=60)


def test_usage_refresh(project):
    quotas.commit(quotas.reserve(project, {"instances": 3}))
    assert quotas.usage_refresh(project, "instances", 1) == (3, 1)
    assert quotas.get_usages(project)["instances"]["in_use"] == 1
    assert quotas.usage_refresh(project, "cores", 4) == (0, 4)
    with pytest.raises(quotas.InvalidQuotaValue):
        quotas.usage_refresh(project, "cores", -1)


def test_check_absolute(project):
    quotas.check_absolute(project, {"metadata_items": 128})
    with pytest.raises(quotas.OverQuota) as info:
        quotas.check_absolute(project, {"metadata_items": 129})
    assert info.value.overs == ["metadata_items"]


def test_parse_quota_update():
    values, force = quotas.parse_quota_update(
        {"quota_set": {"instances": 5, "cores": "7", "force": "True"}}, quotas.COMPUTE_RESOURCES
    )
    assert values == {"instances": 5, "cores": 7} and force is True
    for body in (
        [],
        {"quota_set": []},
        {"quota_set": {"instances": "many"}},
        {"quota_set": {"volumes": 1}},
        {"quota_set": {"instances": -2}},
        {"quota_set": {"force": "maybe"}},
        {"quota_set": {}, "other": 1},
    ):
        with pytest.raises(quotas.QuotaError):
            quotas.parse_quota_update(body, quotas.COMPUTE_RESOURCES)
    with pytest.raises(quotas.UnknownResource):
        quotas.parse_quota_update({"quota_set": {"force": True}}, quotas.VOLUME_RESOURCES, allow_force=False)
