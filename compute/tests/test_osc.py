"""The real `openstack` client against a live server: flavors, services, hypervisors, zones."""
import pytest

from compute.services import hosts
from compute.services.flavors import ensure_default_flavors

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cloud(admin_account, compute_host):
    ensure_default_flavors()
    compute_host("osc-host")
    hosts.register_service("controller", "nova-scheduler")
    return admin_account


def test_flavor_list_and_create(osc, cloud):
    names = {f["Name"] for f in osc("flavor", "list")}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= names

    created = osc("flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1", "f1")
    assert created["name"] == "f1" and created["ram"] == 256 and created["vcpus"] == 1 and created["disk"] == 1
    shown = osc("flavor", "show", "f1")
    assert shown["id"] == created["id"]
    assert "f1" in {f["Name"] for f in osc("flavor", "list")}

    private = osc("flavor", "create", "--ram", "128", "--vcpus", "1", "--disk", "0", "--private",
                  "--project", "admin", "f-private")
    assert private["os-flavor-access:is_public"] is False
    assert "f-private" in {f["Name"] for f in osc("flavor", "list", "--all")}

    osc("flavor", "delete", "f1", raw=True)
    proc = osc("flavor", "show", "f1", check=False)
    assert proc.returncode != 0


def test_compute_service_list(osc, cloud):
    services = osc("compute", "service", "list")
    rows = {(s["Binary"], s["Host"]): s for s in services}
    assert rows[("nova-compute", "osc-host")]["Zone"] == "nova"
    assert rows[("nova-compute", "osc-host")]["Status"] == "enabled"
    assert rows[("nova-compute", "osc-host")]["State"] == "up"
    assert ("nova-scheduler", "controller") in rows

    osc("compute", "service", "set", "--disable", "--disable-reason", "maint", "osc-host", "nova-compute", raw=True)
    rows = {(s["Binary"], s["Host"]): s for s in osc("compute", "service", "list", "--long")}
    assert rows[("nova-compute", "osc-host")]["Status"] == "disabled"
    assert rows[("nova-compute", "osc-host")]["Disabled Reason"] == "maint"


def test_hypervisor_list(osc, cloud, monkeypatch):
    import compute.tasks  # noqa: F401 - registers the agent's tasks
    from cloudproj import rpc
    from cloudproj.celery import app

    # no agent runs here: the uptime call is answered by the agent's task, run in this process
    monkeypatch.setattr(rpc, "call", lambda host, task_name, *args, **kwargs: app.tasks[task_name](*args))
    hypervisors = osc("hypervisor", "list")
    (hv,) = [h for h in hypervisors if h["Hypervisor Hostname"] == "osc-host"]
    assert hv["State"] == "up" and hv["Hypervisor Type"] == "TEST"
    shown = osc("hypervisor", "show", str(hv["ID"]))
    assert shown["vcpus"] == 16 and shown["memory_mb"] == 3072
    # the client parses the host's `uptime` line into these
    assert shown["host_time"] and shown["uptime"] and shown["load_average"].count(",") == 2


def test_availability_zone_list(osc, cloud):
    zones = osc("availability", "zone", "list", "--compute")
    names = {z["Zone Name"] for z in zones}
    assert "nova" in names
    assert all(z["Zone Status"] == "available" for z in zones)
