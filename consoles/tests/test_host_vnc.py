"""The host side of a console: VNC_LISTEN reaches the domain XML, and the agent's answer
(compute.get_vnc_console) is read from the live domain through libvirt (its test driver here:
it reports the port a domain was given; QEMU's autoport is exercised in test_console_qemu.py)."""
import uuid

import libvirt
import pytest

from compute.services import host_resources, lifecycle
from compute.virt.domain_xml import build_domain_xml
from compute.virt.libvirt_driver import LibvirtDriver, vnc_address_of

pytestmark = pytest.mark.django_db

DOMAIN = """<domain type='test'><name>{name}</name><uuid>{uuid}</uuid><memory>65536</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices>{graphics}</devices></domain>"""


@pytest.fixture
def test_hypervisor(monkeypatch):
    """The agent's driver on libvirt's test driver; domains made here are destroyed after."""
    conn = libvirt.open("test:///default")
    monkeypatch.setattr(host_resources, "_driver", LibvirtDriver("test:///default", host="vnc-test-host"))
    made = []

    def start(instance, graphics):
        made.append(conn.createXML(DOMAIN.format(name=instance.name, uuid=instance.uuid, graphics=graphics), 0))

    yield start
    for dom in made:
        dom.destroy()
    conn.close()


@pytest.fixture
def instance(make_account):
    from compute.models import Instance

    user, project, _token = make_account("demo", "member", username="vnc-host-user")
    return Instance.objects.create(display_name="vnc", hostname="vnc", project=project, user=user,
                                   flavorid="1", flavor_name="m1.tiny", memory_mb=64, vcpus=1,
                                   reservation_id="r-vnc00000", vm_state="active", power_state=1,
                                   host="vnc-test-host")


def test_vnc_listen_reaches_the_domain_xml(settings, instance):
    settings.VNC_LISTEN = "0.0.0.0"
    xml = build_domain_xml(host_resources.build_spec(instance))
    assert '<graphics type="vnc" autoport="yes" listen="0.0.0.0">' in xml
    assert '<listen type="address" address="0.0.0.0" />' in xml
    settings.VNC_LISTEN = "127.0.0.1"
    assert 'listen="127.0.0.1"' in build_domain_xml(host_resources.build_spec(instance))


def test_the_live_port_is_read_from_the_domain_xml():
    live = "<domain><devices><graphics type='vnc' port='5903' autoport='yes' listen='127.0.0.1'/></devices></domain>"
    assert vnc_address_of(live) == ("127.0.0.1", 5903)
    assert vnc_address_of(live.replace("5903", "-1")) is None  # defined, not running
    assert vnc_address_of("<domain><devices><graphics type='spice' port='5903'/></devices></domain>") is None
    assert vnc_address_of("<domain><devices/></domain>") is None


def test_the_agent_answers_where_its_vnc_server_is(settings, test_hypervisor, instance):
    settings.VNC_PROXYCLIENT_ADDRESS = "10.247.0.9"
    test_hypervisor(instance, "<graphics type='vnc' port='5999' autoport='no' listen='127.0.0.1'/>")
    assert lifecycle.vnc_console(str(instance.uuid)) == {"host": "127.0.0.1", "port": 5999}


def test_a_server_on_every_address_is_reached_at_vnc_proxyclient_address(settings, test_hypervisor, instance):
    settings.VNC_PROXYCLIENT_ADDRESS = "10.247.0.9"
    test_hypervisor(instance, "<graphics type='vnc' port='5998' autoport='no' listen='0.0.0.0'/>")
    assert lifecycle.vnc_console(str(instance.uuid)) == {"host": "10.247.0.9", "port": 5998}


def test_no_vnc_server_or_no_domain_is_said(test_hypervisor, instance):
    assert "has no running VNC server" in lifecycle.vnc_console(str(instance.uuid))["error"]
    test_hypervisor(instance, "")
    assert "has no running VNC server" in lifecycle.vnc_console(str(instance.uuid))["error"]
    assert "could not be found" in lifecycle.vnc_console(str(uuid.uuid4()))["error"]
