"""InstanceSpec validation and the domain XML built from it (no hypervisor needed,
except the round trip through libvirt's test driver at the end)."""
import uuid
import xml.etree.ElementTree as ET

import pytest

from compute.virt import domain_xml
from compute.virt.driver import InvalidSpec
from compute.virt.spec import InstanceSpec, Nic, console_log_path, libvirt_name

HOSTILE_NAMES = [
    'quote " and \' apostrophe',
    "<script>alert(1)</script>",
    "a & b &amp; &#x41; &lt;",
    "]]> cdata end <![CDATA[ x ]]>",
    "line one\nline two\n\tindented",
    "ünïcødé ☃ 雪 🚀 \u202eevil",
    "$(reboot) `id` ; rm -rf / | cat && echo",
    "</description><devices><disk/></devices><description>",
    '"/><interface type="network"/><x a="',
    "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>&e;",
]


def make_spec(tmp_path, **overrides):
    name = overrides.pop("name", "cpt-test-spec")
    values = dict(
        uuid=str(uuid.uuid4()),
        name=name,
        display_name="vm1",
        memory_mb=64,
        vcpus=1,
        disk_path=str(tmp_path / name / "disk"),
        console_log_path=console_log_path(tmp_path, name),
        nics=[("fa:16:3e:00:00:01", "cptv0")],
    )
    values.update(overrides)
    return InstanceSpec(**values)


def tags(element):
    return sorted(el.tag for el in element.iter())


def test_libvirt_name_and_console_path(tmp_path):
    assert libvirt_name(1) == "instance-00000001"
    assert libvirt_name(0x1234abcd) == "instance-1234abcd"
    assert console_log_path(tmp_path, "instance-00000001") == str(tmp_path / "instance-00000001" / "console.log")
    with pytest.raises(InvalidSpec):
        libvirt_name(-1)
    with pytest.raises(InvalidSpec):
        console_log_path(tmp_path, "../etc")


def test_valid_spec_normalises(tmp_path):
    spec = make_spec(tmp_path, uuid=str(uuid.uuid4()).upper(), nics=[("FA:16:3E:AB:CD:EF", "br100")],
                     kernel_path="/srv/k", initrd_path="/srv/i")
    assert spec.uuid == spec.uuid.lower()
    assert spec.nics == [Nic("fa:16:3e:ab:cd:ef", "br100")]
    assert spec.cmdline == "root=/dev/vda console=ttyS0"
    assert spec.instance_dir == str(tmp_path / "cpt-test-spec")
    assert spec.memory_kib == 64 * 1024


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "bad name"),
        ("name", "../instance-1"),
        ("name", "-leading-dash"),
        ("name", "x" * 65),
        ("name", "a/b"),
        ("name", ""),
        ("uuid", "not-a-uuid"),
        ("uuid", "1234"),
        ("memory_mb", 0),
        ("memory_mb", -64),
        ("memory_mb", "64"),
        ("memory_mb", True),
        ("vcpus", 0),
        ("vcpus", 1.5),
        ("disk_path", "relative/disk"),
        ("disk_path", "/srv/../etc/shadow"),
        ("disk_path", "/srv/disk,format=raw"),
        ("disk_path", "/srv/disk\nx"),
        ("disk_path", ""),
        ("console_log_path", "console.log"),
        ("kernel_path", "vmlinuz"),
        ("disk_format", "vmdk"),
        ("virt_type", "xen"),
        ("virt_type", "qemu'"),
        ("vnc_listen", "localhost; rm -rf /"),
        ("display_name", "x" * 256),
        ("display_name", 42),
        ("cmdline", "console=ttyS0"),  # cmdline without a kernel
        ("initrd_path", "/srv/initrd"),  # initrd without a kernel
    ],
)
def test_spec_rejects(tmp_path, field, value):
    with pytest.raises(InvalidSpec):
        make_spec(tmp_path, **{field: value})


@pytest.mark.parametrize(
    "nic",
    [
        ("52:54:00:12:34:56", "br100"),  # not the fa:16:3e prefix
        ("fa:16:3e:00:00", "br100"),
        ("fa:16:3e:00:00:0g", "br100"),
        ("fa-16-3e-00-00-01", "br100"),
        ("fa:16:3e:00:00:01", "a" * 16),  # IFNAMSIZ
        ("fa:16:3e:00:00:01", "br 0"),
        ("fa:16:3e:00:00:01", "br/0"),
        ("fa:16:3e:00:00:01", ""),
        ("fa:16:3e:00:00:01", "br0:1"),
        ("fa:16:3e:00:00:01",),
    ],
)
def test_spec_rejects_bad_nics(tmp_path, nic):
    with pytest.raises(InvalidSpec):
        make_spec(tmp_path, nics=[nic])


def test_spec_rejects_duplicate_macs(tmp_path):
    with pytest.raises(InvalidSpec):
        make_spec(tmp_path, nics=[("fa:16:3e:00:00:01", "br0"), ("fa:16:3e:00:00:01", "br1")])


def test_bridge_name_of_15_chars_is_fine(tmp_path):
    assert make_spec(tmp_path, nics=[("fa:16:3e:00:00:01", "b" * 15)]).nics[0].bridge == "b" * 15


def test_domain_xml_content(tmp_path):
    spec = make_spec(tmp_path, memory_mb=512, vcpus=2, kernel_path="/srv/vmlinuz", initrd_path="/srv/initrd",
                     cmdline="root=/dev/vda console=ttyS0 quiet",
                     nics=[("fa:16:3e:00:00:01", "br100"), ("fa:16:3e:00:00:02", "br200")])
    root = ET.fromstring(domain_xml.build_domain_xml(spec))
    assert root.tag == "domain" and root.get("type") == "qemu"
    assert root.findtext("name") == "cpt-test-spec"
    assert root.findtext("uuid") == spec.uuid
    assert root.find("memory").get("unit") == "KiB" and root.findtext("memory") == str(512 * 1024)
    assert root.findtext("vcpu") == "2"
    assert root.findtext("os/type") == "hvm"
    assert root.findtext("os/kernel") == "/srv/vmlinuz"
    assert root.findtext("os/initrd") == "/srv/initrd"
    assert root.findtext("os/cmdline") == "root=/dev/vda console=ttyS0 quiet"
    assert root.find("features/acpi") is not None and root.find("features/apic") is not None
    assert root.find("clock").get("offset") == "utc"
    assert (root.findtext("on_poweroff"), root.findtext("on_reboot"), root.findtext("on_crash")) == (
        "destroy", "restart", "destroy")
    disk = root.find("devices/disk")
    assert (disk.get("type"), disk.get("device")) == ("file", "disk")
    assert disk.find("driver").get("type") == "qcow2"
    assert disk.find("source").get("file") == spec.disk_path
    assert (disk.find("target").get("dev"), disk.find("target").get("bus")) == ("vda", "virtio")
    nics = root.findall("devices/interface")
    assert [(n.get("type"), n.find("source").get("bridge"), n.find("mac").get("address"), n.find("model").get("type"))
            for n in nics] == [("bridge", "br100", "fa:16:3e:00:00:01", "virtio"),
                               ("bridge", "br200", "fa:16:3e:00:00:02", "virtio")]
    serial = root.find("devices/serial")
    assert serial.get("type") == "file" and serial.find("source").get("path") == spec.console_log_path
    graphics = root.find("devices/graphics")
    assert (graphics.get("type"), graphics.get("autoport"), graphics.get("listen")) == ("vnc", "yes", "127.0.0.1")
    assert root.find("devices/memballoon").get("model") == "virtio"


def test_domain_xml_without_kernel_boots_from_disk(tmp_path):
    spec = make_spec(tmp_path, nics=[], vnc=False, virt_type="kvm")
    root = ET.fromstring(domain_xml.build_domain_xml(spec))
    assert root.get("type") == "kvm"
    assert root.find("os/kernel") is None and root.find("os/cmdline") is None
    assert root.find("os/boot").get("dev") == "hd"
    assert root.findall("devices/interface") == [] and root.find("devices/graphics") is None


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_hostile_display_name_is_escaped(tmp_path, hostile):
    benign = ET.fromstring(domain_xml.build_domain_xml(make_spec(tmp_path, display_name="vm1")))
    xml = domain_xml.build_domain_xml(make_spec(tmp_path, display_name=hostile))
    root = ET.fromstring(xml)
    # the exact string comes back as text, in the two places meant for it and nowhere else
    assert root.findtext("description") == hostile
    assert domain_xml.parse_display_name(xml) == hostile
    assert tags(root) == tags(benign)  # no element was injected
    assert [el.attrib for el in root.iter()] == [el.attrib for el in benign.iter()]
    assert "<!DOCTYPE" not in xml and "<![CDATA[" not in xml


def test_hostile_paths_and_cmdline_are_escaped(tmp_path):
    weird = str(tmp_path / "a'b\"c<d>&e ]]> $(x);" / "disk")
    spec = make_spec(tmp_path, disk_path=weird, kernel_path=weird, cmdline='console=ttyS0 x="<&>"')
    root = ET.fromstring(domain_xml.build_domain_xml(spec))
    assert root.find("devices/disk/source").get("file") == weird
    assert root.findtext("os/kernel") == weird
    assert root.findtext("os/cmdline") == 'console=ttyS0 x="<&>"'


def test_control_characters_in_display_name_are_made_xml_safe(tmp_path):
    spec = make_spec(tmp_path, display_name="a\r\nb\x00c\x1bd\ud800")
    assert spec.display_name == "a\nb\ufffdc\ufffdd\ufffd"
    assert ET.fromstring(domain_xml.build_domain_xml(spec)).findtext("description") == spec.display_name


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_hostile_display_name_round_trips_through_libvirt(tmp_path, hostile):
    libvirt = pytest.importorskip("libvirt", reason="libvirt-python (the libvirt module) is not installed")
    conn = libvirt.open("test:///default")
    spec = make_spec(tmp_path, name=f"cpt-test-xml-{uuid.uuid4().hex[:8]}", display_name=hostile)
    dom = conn.defineXML(domain_xml.build_domain_xml(spec))
    try:
        desc = dom.XMLDesc(0)
        assert domain_xml.parse_display_name(desc) == hostile
        assert ET.fromstring(desc).findtext("description") == hostile
        assert domain_xml.parse_uuid(desc) == spec.uuid
    finally:
        dom.undefine()
        conn.close()
