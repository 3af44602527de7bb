"""`./manage.py floating create|list|delete` as an operator sees them (nova-manage style)."""
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from floating.models import FloatingIP
from floating.services import ranges
from network.services import networks

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_list_delete(make_account):
    _, project, _ = make_account("cliproj", "netadmin")
    out = run("floating", "create", "--ip_range=203.0.113.0/29", "--pool", "public", "--interface", "eth9")
    assert "6 floating IPs created in pool public: 203.0.113.1 - 203.0.113.6 (interface eth9)" in out
    assert "1 floating IPs created in pool nova: 203.0.113.9 (interface FLOATING_INTERFACE" in run(
        "floating", "create", "203.0.113.9")
    lines = run("floating", "list").splitlines()
    assert lines[0].split() == ["project", "address", "instance", "fixed_ip", "pool", "interface", "host"]
    assert lines[1].split() == ["None", "203.0.113.1", "None", "None", "public", "eth9", "None"]
    assert lines[-1].split() == ["None", "203.0.113.9", "None", "None", "nova", "-", "None"]
    assert len(lines) == 8
    FloatingIP.objects.filter(address="203.0.113.2").update(project=project, host="node-7")
    assert [line.split()[1] for line in run("floating", "list", "--host", "node-7").splitlines()[1:]] == [
        "203.0.113.2"]
    with pytest.raises(CommandError, match=r"1 address\(es\) of 203.0.113.0/29 are allocated to projects"):
        run("floating", "delete", "--ip_range=203.0.113.0/29")
    FloatingIP.objects.filter(address="203.0.113.2").update(project=None, host=None)
    assert "6 floating IPs deleted" in run("floating", "delete", "--ip_range=203.0.113.0/29")
    assert list(FloatingIP.objects.values_list("address", flat=True)) == ["203.0.113.9"]


@pytest.mark.parametrize("args, message", [
    (["--ip_range=203.0.113.0/33"], "invalid IP range"),
    (["--ip_range=203.0.113.5/24"], "has host bits set"),
    (["--ip_range=10.0.0.0/8"], "too large"),
    (["--ip_range=127.0.0.0/29"], "not usable for public addresses"),
    (["--ip_range=169.254.169.254"], "not usable for public addresses"),
    (["--ip_range=203.0.113.0/29", "--interface", "eth0;reboot"], "invalid interface name"),
    (["--ip_range=203.0.113.0/29", "--pool", "a\nb"], "invalid pool name"),
    ([], "give the range"),
])
def test_create_refuses_bad_values(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("floating", "create", *args)
    assert not FloatingIP.objects.exists()


def test_create_refuses_overlaps(db):
    ranges.create_range("203.0.113.0/28")
    with pytest.raises(CommandError, match=r"floating IP 203.0.113.9 already exists"):
        run("floating", "create", "--ip_range=203.0.113.8/29")
    networks.create_network("clinet", "10.201.0.0/24", bridge="cptfipc0", bridge_interface="")
    with pytest.raises(CommandError, match="overlaps fixed network clinet"):
        run("floating", "create", "--ip_range=10.201.0.128/25")
    with pytest.raises(CommandError, match=r"no floating IP of 198.51.100.0/29 exists"):
        run("floating", "delete", "--ip_range=198.51.100.0/29")
    assert FloatingIP.objects.count() == 14


def test_errors_are_one_line_from_the_command_line():
    """A real `./manage.py floating ...` process prints one line and exits non-zero."""
    proc = subprocess.run([sys.executable, "manage.py", "floating", "create", "--ip_range=nope"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == ["CommandError: invalid IP range 'nope': Expected 4 octets in 'nope'"]
    proc = subprocess.run([sys.executable, "manage.py", "floating", "create", "--bogus"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
