"""An injection corpus through every user-given field that reaches libvirt XML, dnsmasq files,
iptables or a command line: each value is refused with a 400 in the API's envelope (or a
CommandError for the operator commands), or it round-trips literally, and the files and rules
built from it by the real writers (domain XML, dnsmasq hosts file, iptables-restore text,
checked by iptables-restore itself in a private network namespace) stay well-formed. The
canaries (`$(touch ...)`, backticks) never create their files."""
import base64
import io
import re
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from compute.models import Instance
from compute.services.flavors import ensure_default_flavors
from compute.services.host_resources import build_spec
from compute.virt import domain_xml
from compute.virt.spec import clean_display_name
from images.models import Image
from images.services.registry import register_image
from network.linux import dnsmasq
from network.models import Network
from network.services import fixed_ips
from network.services import host as network_host
from network.services.networks import create_network

pytestmark = pytest.mark.django_db

API = "/compute/v2.1"
CANARIES = [Path(f"/tmp/cp-sec-canary-{n}") for n in range(4)]
CORPUS = [
    'quote"double', "quote'single", "<tag attr='x'>&amp;</tag>", "a & b", "semi;colon", "pipe | cat",
    f"$(touch {CANARIES[0]})", f"`touch {CANARIES[1]}`", f"x; touch {CANARIES[2]}", f"a$(touch {CANARIES[3]})b",
    "new\nline", "carriage\r\nreturn", "tab\there", "x" * 255, "y" * 5000, "ünïcødé ☃ 𝄞 中文", "\u202eRTL",
    "-A FORWARD -j ACCEPT", "--dhcp-script=/bin/sh", "00:11:22:33:44:55,10.0.0.9,evil", "../../etc/passwd",
    "%s%n%x", "${IFS}", "nul\x00byte", "",
]


@pytest.fixture(autouse=True)
def unlimited_quotas(settings):
    from identity.services.quotas import BUILTIN_DEFAULTS

    settings.QUOTA_DEFAULTS = {name: -1 for name in {**BUILTIN_DEFAULTS, **settings.QUOTA_DEFAULTS}}


@pytest.fixture(autouse=True)
def no_canaries():
    for canary in CANARIES:
        canary.unlink(missing_ok=True)
    yield
    fired = [str(c) for c in CANARIES if c.exists()]
    assert not fired, f"a corpus value was executed: {fired}"


@pytest.fixture
def world(state_paths, member_account):
    ensure_default_flavors()
    image = register_image(io.BytesIO(b"x" * 4096), "inj-img", disk_format="raw", visibility=Image.PUBLIC)
    network = create_network("injnet", "10.252.0.0/25", bridge="cptsecinj0", bridge_interface="")
    return {"image": image, "network": network, "project": member_account[1]}


def refused(response) -> bool:
    """A 400 in the OpenStack envelope (True), or a success (False); anything else fails."""
    if response.status_code == 400:
        (fault,) = response.json().values()
        assert fault["code"] == 400 and fault["message"]
        return True
    assert response.status_code in (200, 201, 202), response.content[:300]
    return False


# --- servers: name, metadata, user data, key name -> domain XML, dnsmasq, kernel cmdline -------


def check_server_fields_reach_xml_and_dnsmasq_literally_or_are_refused(member_client, world, value):
    body = {"server": {"name": value, "imageRef": str(world["image"].id), "flavorRef": "1",
                       "metadata": {"k": value, (value[:255] or "empty"): "v"},
                       "user_data": base64.b64encode(value.encode()).decode()}}
    before = Instance.all_objects.count()
    response = member_client.post(f"{API}/servers", body, format="json")
    if refused(response):
        assert Instance.all_objects.count() == before  # nothing half-written
        return
    server_id = response.json()["server"]["id"]
    shown = member_client.get(f"{API}/servers/{server_id}").json()["server"]
    assert shown["name"] == value and shown["metadata"]["k"] == value
    instance = Instance.objects.get(uuid=server_id)
    row = fixed_ips.allocate_fixed_ip(world["network"], instance.uuid, host="inj-host", hostname=instance.hostname)
    Instance.objects.filter(pk=instance.pk).update(host="inj-host")
    instance.refresh_from_db()

    xml = domain_xml.build_domain_xml(build_spec(instance))
    root = ET.fromstring(xml)  # well-formed, whatever the name held
    assert domain_xml.parse_display_name(xml) == clean_display_name(value)
    assert root.findtext("name") == instance.name and re.fullmatch(r"instance-[0-9a-f]{8}", instance.name)

    entries = network_host.dhcp_hosts(world["network"])
    lines = dnsmasq.render_hosts(entries).splitlines()
    assert len(lines) == len(entries)  # one entry a line, whatever the names held
    assert row.address in [line.split(",")[1] for line in lines]
    for line in lines:
        mac, ip, hostname = line.split(",")
        assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", hostname), line


def check_key_pair_names(member_client, value):
    response = member_client.post(f"{API}/os-keypairs", {"keypair": {"name": value}}, format="json")
    if refused(response):
        return
    assert response.json()["keypair"]["name"] == value
    listed = [k["keypair"]["name"] for k in member_client.get(f"{API}/os-keypairs").json()["keypairs"]]
    assert value in listed


# --- security groups and rules -> iptables-restore text ------------------------------------


RULE_FIELDS = ["ip_protocol", "from_port", "to_port", "cidr"]
VALID_RULE = {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "10.0.0.0/8"}


@pytest.fixture
def netns():
    name = f"cptsec-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {made.stderr.strip()}")
    yield name
    subprocess.run(["ip", "netns", "delete", name], check=False)


def iptables_accepts(netns, text: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", netns, "iptables-restore", "--test"], input=text,
                          capture_output=True, text=True, timeout=30)


def check_security_group_names_rules_and_the_iptables_text(member_client, world, netns, value):
    from secgroups.linux import iptables
    from secgroups.models import SecurityGroup
    from secgroups.services import firewall, membership

    response = member_client.post(f"{API}/os-security-groups",
                                  {"security_group": {"name": value, "description": value}}, format="json")
    if refused(response):
        group_id = str(SecurityGroup.objects.get_or_create(project_id=world["project"].id, name="inj")[0].uuid)
    else:
        group = response.json()["security_group"]
        assert (group["name"], group["description"]) == (value, value)
        group_id = group["id"]
    for field in RULE_FIELDS:
        rule = dict(VALID_RULE, parent_group_id=group_id, **{field: value})
        answer = member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": rule}, format="json")
        refused(answer)
    port = 1000 + CORPUS.index(value)  # a rule not yet in the group (values may share the "inj" group)
    assert member_client.post(f"{API}/os-security-group-rules", {"security_group_rule": dict(
        VALID_RULE, parent_group_id=group_id, from_port=port, to_port=port)}, format="json").status_code == 200

    server = member_client.post(f"{API}/servers", {"server": {
        "name": "fw", "imageRef": str(world["image"].id), "flavorRef": "1",
        "security_groups": [{"name": "default"}]}}, format="json").json()["server"]
    instance = Instance.objects.get(uuid=server["id"])
    membership.join([instance], [SecurityGroup.objects.get(uuid=group_id)])
    fixed_ips.allocate_fixed_ip(world["network"], instance.uuid, host="inj-host", hostname="fw")
    (fw,) = firewall.firewalls([instance])
    text = iptables.render_instance("inj-host", fw)
    for line in text.splitlines():
        assert re.fullmatch(r"[*:A-Za-z0-9 ./,\-\[\]]+", line), line
    checked = iptables_accepts(netns, text)
    assert checked.returncode == 0, checked.stderr


# --- images and volumes: names and properties round-trip literally --------------------------


def check_image_names_and_properties(member_client, value):
    response = member_client.post("/image/v2/images", {"name": value, "disk_format": "raw",
                                                       "container_format": "bare", "x_note": value}, format="json")
    if refused(response):
        return
    image = member_client.get(f"/image/v2/images/{response.json()['id']}").json()
    assert image["name"] == (value or None) and image["x_note"] == value  # Glance: an empty name is null


def check_volume_names_and_descriptions(member_client, member_account, value):
    base = f"/volume/v3/{member_account[1].id}/volumes"
    response = member_client.post(base, {"volume": {"size": 1, "name": value, "description": value,
                                                    "metadata": {"k": value}}}, format="json")
    if refused(response):
        return
    volume = member_client.get(f"{base}/{response.json()['volume']['id']}").json()["volume"]
    # Cinder: an empty name or description is null
    assert (volume["name"], volume["description"], volume["metadata"]["k"]) == (value or None, value or None, value)


# --- operator commands: network labels and bridges, floating pools and interfaces ----------


def check_network_labels_and_bridge_names(world, value):
    try:
        call_command("network", "create", "--label", value or "x", "--fixed_range_v4", "10.252.0.128/28",
                     "--bridge", value, stdout=io.StringIO())
    except (CommandError, SystemExit):
        assert not Network.objects.filter(cidr="10.252.0.128/28").exists()
        return
    network = Network.objects.get(cidr="10.252.0.128/28")
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", network.bridge), network.bridge  # a Linux interface name
    config = dnsmasq.argv(network_host.dnsmasq_config(network))
    assert all("\n" not in arg for arg in config)


def check_floating_pool_and_interface_names(db, value):
    from floating.models import FloatingIP

    for option in ("--pool", "--interface"):
        try:
            call_command("floating", "create", "--ip_range", "10.252.0.144/30", option, value, stdout=io.StringIO())
        except (CommandError, SystemExit):
            assert not FloatingIP.objects.filter(address__startswith="10.252.0.14").exists()
            continue
        row = FloatingIP.objects.filter(address__startswith="10.252.0.14").first()
        if option == "--pool":
            assert row.pool == (value or "nova")  # none given: DEFAULT_FLOATING_POOL
        else:  # none given: FLOATING_INTERFACE
            assert re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", row.interface) or row.interface == value == "", row.interface
        call_command("floating", "delete", "--ip_range", "10.252.0.144/30", stdout=io.StringIO())


def each_value(check, *args):
    """Run `check(*args, value)` for every corpus value; report every value that failed."""
    failures = []
    for value in CORPUS:
        try:
            check(*args, value)
        except AssertionError as error:
            failures.append(f"{value[:40]!r}: {str(error)[:400]}")
    assert not failures, "\n".join(failures)


def test_server_fields_reach_xml_and_dnsmasq_literally_or_are_refused(member_client, world):
    each_value(check_server_fields_reach_xml_and_dnsmasq_literally_or_are_refused, member_client, world)


def test_key_pair_names(member_client):
    each_value(check_key_pair_names, member_client)


def test_security_group_names_rules_and_the_iptables_text(member_client, world, netns):
    each_value(check_security_group_names_rules_and_the_iptables_text, member_client, world, netns)


def test_image_names_and_properties(member_client):
    each_value(check_image_names_and_properties, member_client)


def test_volume_names_and_descriptions(member_client, member_account):
    each_value(check_volume_names_and_descriptions, member_client, member_account)


def test_network_labels_and_bridge_names(world):
    each_value(check_network_labels_and_bridge_names, world)


def test_floating_pool_and_interface_names(db):
    each_value(check_floating_pool_and_interface_names, db)
