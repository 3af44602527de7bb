"""Lock a user out after repeated failed password logins (the seeds' EC2 lockout, applied to
every password login: Keystone tokens, the dashboard, the Django admin).

As nova's `Lockout` middleware: `LOCKOUT_ATTEMPTS` failures within `LOCKOUT_WINDOW` minutes
lock the account for `LOCKOUT_MINUTES`; while locked even the right password is refused and
not counted. Counted per user (the seeds counted per access key), not per source address: a
guesser spreading over addresses is still stopped, at the price that anyone can lock a user
out for the lockout time. A successful login clears the count. Unknown user names have no
row: their answer is the same refusal, so nothing tells a locked account from a bad password
on the API.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from identity.models import LoginFailure, User

log = logging.getLogger(__name__)


def locked_until(user: User | None):
    """When the lockout of `user` ends, or None if it may log in."""
    if user is None or settings.LOCKOUT_ATTEMPTS <= 0:
        return None
    row = LoginFailure.objects.filter(user=user).first()
    if row is None or row.locked_until is None or row.locked_until <= timezone.now():
        return None
    return row.locked_until


def record_failure(user: User) -> None:
    if settings.LOCKOUT_ATTEMPTS <= 0:
        return
    now = timezone.now()
    with transaction.atomic():
        row, _ = LoginFailure.objects.select_for_update().get_or_create(user=user)
        window_over = row.window_started_at <= now - timedelta(minutes=settings.LOCKOUT_WINDOW)
        lock_over = row.locked_until is not None and row.locked_until <= now
        if window_over or lock_over or row.failures == 0:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= settings.LOCKOUT_ATTEMPTS:
            row.locked_until = now + timedelta(minutes=settings.LOCKOUT_MINUTES)
            log.warning("user %s has had %d failed logins and is locked out for %d minutes",
                        user.username, row.failures, settings.LOCKOUT_MINUTES)
        row.save()


def record_success(user: User) -> None:
    LoginFailure.objects.filter(user=user).delete()


def check_password(user: User | None, password: str) -> bool:
    """The password check of every login: False for an unknown, disabled or locked user or a
    wrong password; a wrong password counts towards the lockout, a right one clears it."""
    from identity.services.accounts import check_password as password_matches

    if user is None or locked_until(user) is not None:
        return False
    if not password_matches(user, password):
        if user.is_active:
            record_failure(user)
        return False
    record_success(user)
    return True
