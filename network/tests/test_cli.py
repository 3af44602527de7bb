"""`./manage.py network ...` and `./manage.py fixed list` as an operator sees them."""
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from network.models import Network
from network.services import fixed_ips

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_network_create_list_delete(make_account):
    make_account("cliproj", "member")
    out = run("network", "create", "--label", "clinet", "--fixed_range_v4", "10.200.40.0/24",
              "--bridge", "cptcli1", "--dns1", "8.8.4.4", "--multi_host", "T", "--project", "cliproj")
    assert "network clinet created: 10.200.40.0/24 on cptcli1" in out
    network = Network.objects.get(label="clinet")
    assert network.multi_host and network.project.name == "cliproj" and network.dns1 == "8.8.4.4"
    lines = run("network", "list").splitlines()
    assert lines[0].split() == ["id", "IPv4", "IPv6", "gateway", "start", "address", "DNS1", "DNS2",
                                "VlanID", "project", "uuid", "label"]
    assert lines[1].split() == [str(network.pk), "10.200.40.0/24", "None", "10.200.40.1", "10.200.40.2",
                                "8.8.4.4", "cliproj", str(network.uuid), "clinet"]
    vm = uuid.uuid4()
    fixed_ips.allocate_fixed_ip(network, vm, host="node1", hostname="web1")
    with pytest.raises(CommandError, match="still in use"):
        run("network", "delete", "10.200.40.0/24")
    fixed_ips.release_fixed_ip(vm)
    assert "network clinet (10.200.40.0/24) deleted" in run("network", "delete", "clinet")
    assert len(run("network", "list").splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--fixed_range_v4", "10.200.41.0/33"], "invalid fixed range"),
    (["--fixed_range_v4", "10.200.41.0/24", "--bridge", "br;x"], "invalid interface name"),
    (["--fixed_range_v4", "10.200.41.0/24", "--multi_host", "maybe"], "--multi_host must be T or F"),
    (["--fixed_range_v4", "10.200.41.0/24", "--project", "nope"], "project nope not found"),
    (["--fixed_range_v4", "10.200.41.0/24", "--num_networks", "3"], "num_networks 1"),
])
def test_network_create_errors_are_one_line(args, message):
    with pytest.raises(CommandError, match=message) as info:
        run("network", "create", "--label", "bad", "--bridge", "cptcli2", *args) if "--bridge" not in args \
            else run("network", "create", "--label", "bad", *args)
    assert "\n" not in str(info.value)


def test_network_delete_unknown():
    with pytest.raises(CommandError, match="Network nothere could not be found"):
        run("network", "delete", "nothere")


def test_fixed_list():
    from network.services import networks

    network = networks.create_network("fx", "10.200.42.0/29", bridge="cptcli3", bridge_interface="")
    ip = fixed_ips.allocate_fixed_ip(network, uuid.uuid4(), host="node1", hostname="web1")
    fixed_ips.allocate_fixed_ip(network, uuid.uuid4(), host="node2", hostname="web2")
    lines = run("fixed", "list").splitlines()
    assert lines[0].split() == ["network", "IP", "address", "MAC", "address", "hostname", "host", "instance",
                                "allocated", "leased", "reserved"]
    assert len(lines) == 1 + 8
    assert lines[1].split()[-3:] == ["no", "no", "yes"]  # the network address is reserved
    by_host = run("fixed", "list", "--host", "node1").splitlines()
    assert len(by_host) == 2
    assert by_host[1].split()[:5] == ["10.200.42.0/29", "10.200.42.2", ip.mac_address, "web1", "node1"]
    assert by_host[1].split()[-3:] == ["yes", "no", "no"]
    assert len(run("fixed", "list", "--allocated").splitlines()) == 3
