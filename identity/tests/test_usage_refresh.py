"""Quota usage recounted from the real rows (`./manage.py quota refresh`, the periodic task)."""
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cloudproj.testing.factories import make_instance, make_project_user
from floating.models import FloatingIP
from identity.services import quotas, usage_refresh
from identity.models import QuotaUsage
from secgroups.services.groups import ensure_default
from volumes.models import Snapshot, Volume

pytestmark = pytest.mark.django_db


def _world():
    project, user = make_project_user("drift")
    make_instance(project, user, vcpus=2, memory_mb=1024)
    make_instance(project, user, vcpus=1, memory_mb=512, vm_state="error")
    make_instance(project, user, vcpus=8, memory_mb=8192, deleted_at=timezone.now())  # gone: not counted
    volume = Volume.objects.create(size=5, availability_zone="nova", project=project, user=user, status="available")
    Volume.objects.create(size=7, availability_zone="nova", project=project, user=user, deleted_at=timezone.now())
    Snapshot.objects.create(volume=volume, size=5, project=project, user=user, status="available")
    FloatingIP.objects.create(address="10.250.1.10", pool="nova", project=project)
    FloatingIP.objects.create(address="10.250.1.11", pool="nova")  # in the pool: nobody's
    ensure_default(project.id)
    return project


def _in_use(project):
    return {r: u["in_use"] for r, u in quotas.get_usages(project).items() if r in usage_refresh.COUNTED}


EXPECTED = {"instances": 2, "cores": 3, "ram": 1536, "floating_ips": 1, "security_groups": 1, "volumes": 1,
            "snapshots": 1, "gigabytes": 10}


def test_drifted_rows_are_fixed_and_reservations_kept():
    project = _world()
    quotas.usage_refresh(project, "instances", 9)  # drift, as a crash between row and usage leaves
    QuotaUsage.objects.update_or_create(project=project, resource="ram", defaults={"in_use": 0, "reserved": 512})

    changes = usage_refresh.refresh(project.id)

    assert _in_use(project) == EXPECTED
    assert ("instances", 9, 2) in [(r, old, new) for _p, r, old, new in changes]
    assert quotas.get_usages(project)["ram"]["reserved"] == 512
    assert usage_refresh.refresh(project.id) == []  # converged


def test_refresh_command_prints_what_it_fixed():
    project = _world()
    quotas.usage_refresh(project, "volumes", 4)
    out = io.StringIO()
    call_command("quota", "refresh", "--project", "drift", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["project", "resource", "in_use", "was", "in_use", "now"]
    assert any(line.split()[1:] == ["volumes", "4", "1"] for line in lines[1:])
    out = io.StringIO()
    call_command("quota", "refresh", stdout=out)
    assert out.getvalue().strip() == "quota usage matches the real resources: nothing to fix"
    assert _in_use(project) == EXPECTED
    with pytest.raises(CommandError, match="Project nope not found"):
        call_command("quota", "refresh", "--project", "nope")


def test_periodic_task_counts_fixed_rows():
    from identity.tasks import refresh_quota_usages

    project = _world()
    QuotaUsage.objects.filter(project=project).update(in_use=0)
    assert refresh_quota_usages() == len(EXPECTED)
    assert _in_use(project) == EXPECTED
