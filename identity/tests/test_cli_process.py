"""The operator commands as an operator runs them: `manage.py ...` in a real process.

Checks exit statuses, one-line errors on stderr, --help, and that `user create` output can be
`eval`ed by a shell as the seeds' could.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from identity.services import accounts
from identity.models import Ec2Credential, Project

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BASE_DIR = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database this test runs against (test_<name>)."""
    db = connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def manage(*args, shell: str | None = None) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "cloudproj.settings",
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    if shell is not None:
        argv = ["bash", "-c", shell.replace("MANAGE", f"{sys.executable} {BASE_DIR / 'manage.py'}")]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=BASE_DIR)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_of_every_category():
    for category, actions in {
        "project": ["create", "list", "delete", "quota", "environment"],
        "user": ["create", "admin", "list", "delete", "exports"],
        "role": ["add", "remove", "has", "list"],
        "db": ["sync", "version"],
    }.items():
        proc = manage(category, "--help")
        assert proc.returncode == 0, proc.stderr
        for action in actions:
            assert action in proc.stdout


def test_unknown_names_fail_with_one_line(roles):
    accounts.create_project("demo")
    assert_one_line_error(manage("role", "add", "nobody", "member"), "CommandError", "User 'nobody' not found")
    assert_one_line_error(manage("project", "delete", "nope"), "Project 'nope' not found")
    accounts.create_user("john", "pw")
    assert_one_line_error(manage("role", "add", "john", "wizard"), "Unknown role 'wizard'", "netadmin")
    assert_one_line_error(manage("role", "add", "john", "projectmanager", "demo"), "projectmanager")


def test_duplicate_project_fails_cleanly(roles):
    first = manage("project", "create", "dup")
    assert first.returncode == 0, first.stderr
    assert "Created project dup" in first.stdout
    second = manage("project", "create", "dup")
    assert_one_line_error(second, "Duplicate entry 'dup'")
    assert Project.objects.filter(name="dup").count() == 1


def test_bad_arguments_exit_non_zero():
    proc = manage("project", "bogus")
    assert proc.returncode != 0
    assert "invalid choice: 'bogus'" in proc.stderr.strip().splitlines()[-1]
    proc = manage("role", "add")
    assert proc.returncode != 0
    assert "required" in proc.stderr.strip().splitlines()[-1]


def test_user_create_output_can_be_evaluated(roles):
    accounts.create_project("john_project")
    proc = manage(
        shell='eval "$(MANAGE user create john --project john_project)" && echo "$EC2_ACCESS_KEY $EC2_SECRET_KEY"'
    )
    assert proc.returncode == 0, proc.stderr
    credential = Ec2Credential.objects.get(user__username="john")
    assert proc.stdout.split() == [credential.access, credential.secret]
    again = manage("user", "exports", "john")
    assert f"export EC2_ACCESS_KEY={credential.access}" in again.stdout


def test_db_version_and_shell():
    version = manage("db", "version")
    assert version.returncode == 0, version.stderr
    assert int(version.stdout.strip()) > 0
    shell = manage("shell", "-c", "from identity.models import Project; print('projects', Project.objects.count())")
    assert shell.returncode == 0, shell.stderr
    assert "projects 0" in shell.stdout
