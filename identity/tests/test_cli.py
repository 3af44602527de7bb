"""The operator commands (project, user, role, db), run in-process through call_command."""
import io
import os
import stat
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from identity.services import accounts
from identity.models import Ec2Credential, Project, RoleAssignment, User

pytestmark = pytest.mark.django_db



def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def fails(*args) -> str:
    with pytest.raises(CommandError) as info:
        run(*args)
    return str(info.value)


def exports_of(output: str) -> dict:
    values = {}
    for line in output.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            values[key] = value
    return values


@pytest.fixture
def john(roles):
    return accounts.create_user("john", "john-pass")


@pytest.fixture
def john_project(john):
    return accounts.create_project("john_project", manager=john)


# --- project --------------------------------------------------------------------------------


def test_project_create_with_manager_gives_projectmanager_role(john):
    out = run("project", "create", "john_project", "--manager", "john", "--description", "John's")
    project = Project.objects.get(name="john_project")
    assert "Created project john_project" in out and project.id in out
    assert project.manager == john and project.description == "John's"
    assert RoleAssignment.objects.filter(user=john, project=project, role__name="projectmanager").exists()


def test_project_create_seeds_form_positional_manager(john):
    run("project", "create", "book", "john")
    assert Project.objects.get(name="book").manager == john


def test_project_create_errors(john_project):
    assert "Duplicate entry 'john_project'" in fails("project", "create", "john_project")
    assert "User 'ghost' not found" in fails("project", "create", "other", "--manager", "ghost")
    assert Project.objects.filter(name="other").count() == 0


def test_project_list_and_filter_by_user(john_project, roles):
    accounts.create_project("lonely")
    out = run("project", "list")
    assert "john_project" in out and "lonely" in out
    filtered = run("project", "list", "--user", "john")
    assert "john_project" in filtered and "lonely" not in filtered


def test_project_delete_removes_its_identity_rows(john_project, john):
    accounts.create_ec2_credential(john, john_project)
    run("project", "delete", "john_project")
    assert not Project.objects.filter(name="john_project").exists()
    assert Project.all_objects.get(name="john_project").is_deleted  # a tombstone for what it owns
    assert not Ec2Credential.objects.filter(user=john).exists()
    assert not RoleAssignment.objects.filter(user=john).exists()
    assert "not found" in fails("project", "delete", "john_project")


def test_project_quota_show_and_set(john_project):
    pytest.importorskip("identity.services.quotas")
    out = run("project", "quota", "john_project")
    assert "instances" in out and "cores" in out
    out = run("project", "quota", "john_project", "instances", "20")
    assert [line.split() for line in out.splitlines() if line.startswith("instances")] == [["instances", "20"]]
    out = run("project", "quota", "john_project", "cores", "unlimited")
    assert ["cores", "unlimited"] in [line.split() for line in out.splitlines()]
    from identity.services import quotas

    assert quotas.get_quotas(john_project)["instances"] == 20
    assert quotas.get_quotas(john_project)["cores"] == -1


def test_project_quota_errors(john_project):
    pytest.importorskip("identity.services.quotas")
    assert "bogus" in fails("project", "quota", "john_project", "bogus", "3")
    assert "whole number" in fails("project", "quota", "john_project", "instances", "lots")
    assert "Give a value" in fails("project", "quota", "john_project", "instances")
    assert "not found" in fails("project", "quota", "nope")


def test_project_environment_writes_sourceable_rc_without_password(john_project, john, tmp_path, settings):
    settings.PUBLIC_ENDPOINT = "https://cloud.example.com:8774/"
    rc = tmp_path / "novarc"
    out = run("project", "environment", "john_project", "john", str(rc))
    assert f"Wrote {rc}" in out
    text = rc.read_text()
    assert "john-pass" not in text
    assert stat.S_IMODE(os.stat(rc).st_mode) == 0o600
    credential = Ec2Credential.objects.get(user=john, project=john_project)
    script = f'. "{rc}" && echo "$OS_AUTH_URL|$OS_USERNAME|$OS_PROJECT_NAME|$OS_PASSWORD|$EC2_ACCESS_KEY|$EC2_SECRET_KEY"'
    env = {"PATH": os.environ["PATH"], "OS_PASSWORD": "typed-by-user"}
    sourced = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
    assert sourced.stdout.strip().split("|") == [
        "https://cloud.example.com:8774/identity/v3", "john", "john_project", "typed-by-user",
        credential.access, credential.secret,
    ]
    # Without OS_PASSWORD in the environment, sourcing stops with a message instead of prompting.
    env.pop("OS_PASSWORD")
    unset = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert unset.returncode != 0 and "OS_PASSWORD" in unset.stderr
    # A second run reuses the same credential.
    run("project", "environment", "john_project", "john", str(rc))
    assert Ec2Credential.objects.filter(user=john, project=john_project).count() == 1


def test_project_environment_default_filename_and_stdout(john_project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("project", "environment", "john_project", "john")
    assert (tmp_path / "novarc").exists()
    out = run("project", "environment", "john_project", "john", "-")
    assert "export OS_USERNAME=john" in out and "export EC2_ACCESS_KEY=" in out


def test_project_environment_needs_a_member(john_project, roles):
    accounts.create_user("stranger", "x")
    assert "has no role in project" in fails("project", "environment", "john_project", "stranger", "-")
    assert "User 'ghost' not found" in fails("project", "environment", "john_project", "ghost", "-")


# --- user -----------------------------------------------------------------------------------


def test_user_create_prints_exports_and_generated_password(john_project):
    out = run("user", "create", "ken", "--project", "john_project", "--email", "ken@example.com")
    ken = User.objects.get(username="ken")
    credential = Ec2Credential.objects.get(user=ken, project=john_project)
    assert exports_of(out) == {"EC2_ACCESS_KEY": credential.access, "EC2_SECRET_KEY": credential.secret}
    password = next(line for line in out.splitlines() if "generated password" in line).rsplit(" ", 1)[1]
    assert ken.check_password(password)
    assert ken.default_project == john_project and ken.email == "ken@example.com"
    assert RoleAssignment.objects.filter(user=ken, project=john_project, role__name="member").exists()


def test_user_create_with_given_keys_and_password(john_project):
    out = run("user", "create", "ken", "my-access-key", "a-super-secret-key", "--project", "john_project",
              "--password", "pw", "--role", "developer")
    assert exports_of(out) == {"EC2_ACCESS_KEY": "my-access-key", "EC2_SECRET_KEY": "a-super-secret-key"}
    assert "generated password" not in out
    ken = User.objects.get(username="ken")
    assert ken.check_password("pw")
    assert RoleAssignment.objects.filter(user=ken, role__name="developer").exists()


def test_user_create_admin(roles):
    out = run("user", "create", "boss", "--admin", "--password", "pw")
    boss = User.objects.get(username="boss")
    assert boss.is_staff and boss.is_superuser
    assert RoleAssignment.objects.filter(user=boss, role__name="admin", project__isnull=True).exists()
    assert "no EC2 credentials" in out
    run("user", "admin", "boss2", "--password", "pw")
    assert RoleAssignment.objects.filter(user__username="boss2", role__name="admin").exists()


def test_user_create_errors(john_project):
    assert "Duplicate entry 'john'" in fails("user", "create", "john")
    assert "give --project" in fails("user", "create", "ken", "--access", "k")
    assert "Project 'nope' not found" in fails("user", "create", "ken", "--project", "nope")
    assert "Unknown role 'wizard'" in fails("user", "create", "ken", "--project", "john_project", "--role", "wizard")
    assert not User.objects.filter(username="ken").exists()


def test_user_list_delete_exports(john_project, john):
    run("user", "create", "ken", "--project", "john_project", "--password", "pw")
    out = run("user", "list")
    assert "ken" in out and "john_project" in out and "john" in out
    first = exports_of(run("user", "exports", "ken"))
    assert first == exports_of(run("user", "exports", "ken", "--project", "john_project"))
    # john manages the project but has no credential there yet: one is made for him.
    created = run("user", "exports", "john", "--project", "john_project")
    assert Ec2Credential.objects.get(user=john).access == exports_of(created)["EC2_ACCESS_KEY"]
    assert "no default project" in fails("user", "exports", "john")
    run("user", "delete", "ken")
    assert not User.objects.filter(username="ken").exists()
    assert "User 'ken' not found" in fails("user", "delete", "ken")


# --- role -----------------------------------------------------------------------------------


def test_role_add_global_and_project(john_project, john):
    assert "globally" in run("role", "add", "john", "netadmin")
    assert "in project john_project" in run("role", "add", "john", "netadmin", "john_project")
    assert RoleAssignment.objects.filter(user=john, role__name="netadmin", project__isnull=True).exists()
    assert RoleAssignment.objects.filter(user=john, role__name="netadmin", project=john_project).exists()
    assert "already has" in run("role", "add", "john", "netadmin")
    assert run("role", "has", "john", "netadmin").strip() == "True"
    assert run("role", "has", "john", "sysadmin", "john_project").strip() == "False"


def test_role_errors(john_project):
    message = fails("role", "add", "john", "wizard")
    assert "Unknown role 'wizard'" in message and "netadmin" in message and "member" in message
    assert "User 'nobody' not found" in fails("role", "add", "nobody", "member")
    assert "Project 'nope' not found" in fails("role", "add", "john", "member", "nope")
    assert "cannot be added" in fails("role", "add", "john", "projectmanager", "john_project")
    assert "cannot be removed" in fails("role", "remove", "john", "projectmanager", "john_project")
    assert "does not have role" in fails("role", "remove", "john", "member", "john_project")


def test_role_remove_and_list(john_project, john):
    accounts.create_user("ken", "pw")
    run("role", "add", "ken", "member", "john_project")
    run("role", "add", "ken", "itsec")
    rows = [line.split() for line in run("role", "list").splitlines()[1:]]
    assert ["ken", "itsec", "(global)"] in rows and ["ken", "member", "john_project"] in rows
    assert ["john", "projectmanager", "john_project"] in rows
    only_ken = [line.split() for line in run("role", "list", "--user", "ken").splitlines()[1:]]
    assert {row[0] for row in only_ken} == {"ken"}
    in_project = [line.split() for line in run("role", "list", "--project", "john_project").splitlines()[1:]]
    assert all(row[2] == "john_project" for row in in_project) and len(in_project) == 2
    assert "Removed role member" in run("role", "remove", "ken", "member", "john_project")
    assert not RoleAssignment.objects.filter(user__username="ken", role__name="member").exists()
    assert "Removed role itsec from ken globally" in run("role", "remove", "ken", "itsec")
    assert "projectmanager" in run("role", "roles")


# --- db -------------------------------------------------------------------------------------


def test_db_version_counts_applied_migrations():
    from django.db.migrations.recorder import MigrationRecorder
    from django.db import connection

    applied = MigrationRecorder(connection).applied_migrations()
    version = int(run("db", "version").strip())
    assert 0 < version <= len(applied)
    assert int(run("db", "sync").strip()) == version
    table = run("db", "version", "--apps")
    assert "identity" in table and "0001_initial" in table


# --- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["project", "user", "role", "db"])
def test_every_action_has_help(category, capsys):
    from django.core.management import load_command_class

    command = load_command_class("identity", category)
    for action in command.actions:
        parser = command.create_parser("manage.py", category)
        with pytest.raises(SystemExit) as info:
            parser.parse_args([action, "--help"])
        assert info.value.code == 0
        assert f"manage.py {category} {action}" in capsys.readouterr().out


def test_unknown_action_is_an_error():
    assert "invalid choice" in fails("project", "bogus")
    assert "required" in fails("role", "add", "john")
