"""Repeated failed password logins lock the user out (the seeds' lockout_attempts=5,
lockout_minutes=15, lockout_window=15), on the Keystone token API and the dashboard alike."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from identity.models import LoginFailure

pytestmark = pytest.mark.django_db

TOKENS = "/identity/v3/auth/tokens"


def body(password, name="demo-user"):
    return {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": name, "domain": {"id": "default"}, "password": password}}}}}


def login(client, password, name="demo-user"):
    return client.post(TOKENS, body(password, name), format="json")


def dashboard_login(password, username="demo-user"):
    return Client().post("/dashboard/login/", {"username": username, "password": password})


def test_defaults_are_the_seeds(settings):
    assert (settings.LOCKOUT_ATTEMPTS, settings.LOCKOUT_MINUTES, settings.LOCKOUT_WINDOW) == (5, 15, 15)


def test_five_failures_lock_the_api_out_with_the_bad_password_answer(anon_client, member_account):
    wrong = [login(anon_client, "wrong") for _ in range(5)]
    assert [r.status_code for r in wrong] == [401] * 5
    locked = login(anon_client, "secret-pass")
    assert locked.status_code == 401
    assert locked.json() == wrong[0].json()  # no difference a guesser could read
    assert "X-Subject-Token" not in locked
    # an unknown user name gets the very same answer
    assert login(anon_client, "wrong", name="nobody-here").json() == locked.json()
    # the v2.0 token call and the dashboard are locked too
    v2 = anon_client.post("/v2.0/tokens", {"auth": {"passwordCredentials": {
        "username": "demo-user", "password": "secret-pass"}}}, format="json")
    assert v2.status_code == 401
    page = dashboard_login("secret-pass")
    assert page.status_code == 401 and "locked for 15 more minute" in page.content.decode()


def test_the_lock_ends_after_lockout_minutes(anon_client, member_account):
    for _ in range(5):
        login(anon_client, "wrong")
    row = LoginFailure.objects.get(user=member_account[0])
    row.locked_until = timezone.now() - timedelta(seconds=1)  # 15 minutes later
    row.save()
    assert login(anon_client, "secret-pass").status_code == 201
    assert not LoginFailure.objects.filter(user=member_account[0]).exists()


def test_a_success_resets_the_count(anon_client, member_account):
    for _ in range(4):
        assert login(anon_client, "wrong").status_code == 401
    assert login(anon_client, "secret-pass").status_code == 201
    for _ in range(4):
        assert login(anon_client, "wrong").status_code == 401
    assert login(anon_client, "secret-pass").status_code == 201


def test_failures_older_than_the_window_do_not_count(anon_client, member_account):
    for _ in range(4):
        login(anon_client, "wrong")
    LoginFailure.objects.filter(user=member_account[0]).update(
        window_started_at=timezone.now() - timedelta(minutes=16))
    login(anon_client, "wrong")  # the first of a new window
    assert login(anon_client, "secret-pass").status_code == 201


def test_settings_change_the_limits(anon_client, member_account, settings):
    settings.LOCKOUT_ATTEMPTS = 2
    settings.LOCKOUT_MINUTES = 1
    login(anon_client, "wrong")
    login(anon_client, "wrong")
    assert login(anon_client, "secret-pass").status_code == 401
    row = LoginFailure.objects.get(user=member_account[0])
    assert timedelta(seconds=50) < row.locked_until - timezone.now() <= timedelta(minutes=1)
    settings.LOCKOUT_ATTEMPTS = 0  # off
    assert login(anon_client, "secret-pass").status_code == 201


def test_the_lock_is_per_user(anon_client, member_account, make_account):
    make_account("other", "member", username="other-user")
    for _ in range(5):
        login(anon_client, "wrong")
    assert login(anon_client, "secret-pass", name="other-user").status_code == 201


def test_dashboard_failures_count_and_say_so(member_account):
    for _ in range(4):
        page = dashboard_login("wrong")
        assert page.status_code == 401 and "Invalid user name or password." in page.content.decode()
    page = dashboard_login("wrong")
    assert "Too many failed logins: this account is locked for 15 more minute(s)." in page.content.decode()
    assert dashboard_login("secret-pass").status_code == 401
    # the Django admin site's login goes through the same check
    assert not Client().login(username="demo-user", password="secret-pass")
