"""Fixtures of the floating IP tests: a fixed network, a pool, servers placed on a host the way
the boot pipeline would leave them (no worker runs here), and netadmin accounts."""
import pytest

from cloudproj.testing.clients import TokenClient
from floating.services import ranges
from network.services import networks


@pytest.fixture(autouse=True)
def networks_path(settings, tmp_path, paths):
    settings.NETWORKS_PATH = tmp_path / "networks"


@pytest.fixture
def fixed_network(db):
    return networks.create_network("fipnet", "10.239.0.0/24", bridge="cptfipu0", bridge_interface="")


@pytest.fixture
def pool(db):
    return ranges.create_range("198.51.100.0/29", pool="public", interface="cptfipx0")


@pytest.fixture
def netadmin_account(make_account, member_account):
    return make_account("demo", "netadmin", username="demo-netadmin")


@pytest.fixture
def netadmin_client(netadmin_account):
    return TokenClient(netadmin_account[2])


@pytest.fixture
def other_netadmin_client(make_account):
    return TokenClient(make_account("other", "netadmin", username="other-netadmin")[2])


@pytest.fixture
def sent(monkeypatch):
    """What the request sent to the broker after commit: [(task name, args, queue)]."""
    from cloudproj.celery import app

    calls = []
    def send_task(name, args=None, kwargs=None, *rest, queue=None, **options):
        calls.append((name, args, queue))

    monkeypatch.setattr(app, "send_task", send_task)
    return calls
