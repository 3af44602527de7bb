"""The periodic housekeeping tasks beat runs: what they leave behind is what users see."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from identity.services import quotas, tokens

from identity import tasks
from identity.models import Token

pytestmark = pytest.mark.django_db


def test_expired_reservations_are_rolled_back_and_free_the_quota(member_account):
    _, project, _ = member_account
    quotas.set_quota(project, "instances", 1)
    quotas.reserve(project, {"instances": 1}, expire=timedelta(seconds=-1))
    assert tasks.expire_quota_reservations.apply().get() == 1
    assert quotas.get_usages(project)["instances"]["reserved"] == 0
    quotas.reserve(project, {"instances": 1})  # the quota is free again


def test_long_expired_tokens_are_purged_but_live_ones_stay(member_account):
    user, project, live_token = member_account
    _, old = tokens.issue_token(user, project)
    Token.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=2))
    assert tasks.purge_expired_tokens.apply().get() == 1
    assert tokens.context_for(live_token).user == user


def test_beat_schedule_routes_housekeeping_to_the_scheduler_queue():
    entries = settings.CELERY_BEAT_SCHEDULE
    # other apps add their own housekeeping (images.reap_stalled_uploads ...)
    assert {"identity.expire_quota_reservations", "identity.purge_expired_tokens"} <= {e["task"] for e in entries.values()}
    assert all(e["options"]["queue"] == "scheduler" for e in entries.values())
