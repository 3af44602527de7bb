"""The metadata service through Django's test client, with requests "from" given source
addresses (REMOTE_ADDR): what each instance sees, and that nobody sees anyone else's data."""
import base64
import json

import pytest
from django.apps import apps
from django.test import Client

from compute import states
from compute.models import Instance, KeyPair
from images.models import Image
from network.models import FixedIP
from network.services.fixed_ips import allocate_fixed_ip
from network.services.networks import create_network

pytestmark = [pytest.mark.django_db, pytest.mark.urls("metadata.api.urls")]

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFirstInstanceKeyxxxxxxxxxxxxxxxxxxxxxxxxxx k@cloud"
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISecondInstanceKeyyyyyyyyyyyyyyyyyyyyyyyyy j@cloud"
USER_DATA = b"#!/bin/sh\necho hello\n\x00\xff binary too\n"


@pytest.fixture
def cloud(member_account):
    user, project, _token = member_account
    network = create_network("mdnet", "10.231.0.0/24", bridge="cptmdunit0")
    image = Image.objects.create(name="img", status="active", disk_format="ami", container_format="ami",
                                 visibility="public")
    kernel = Image.objects.create(name="k", status="active", disk_format="aki", container_format="aki")
    ramdisk = Image.objects.create(name="r", status="active", disk_format="ari", container_format="ari")
    KeyPair.objects.create(user=user, name="k", public_key=KEY, fingerprint="f")

    def boot(name, key_name="k", key_data=KEY, user_data=USER_DATA, **extra):
        instance = Instance.objects.create(
            display_name=name, hostname=name, project=project, user=user, flavorid="1", flavor_name="m1.tiny",
            memory_mb=512, vcpus=1, image_ref=str(image.id), kernel_id=str(kernel.id), ramdisk_id=str(ramdisk.id),
            key_name=key_name, key_data=key_data, reservation_id=f"r-{name}",
            user_data=base64.b64encode(user_data).decode() if user_data is not None else None,
            availability_zone="zone-a", security_groups=["default", "web"], vm_state=states.ACTIVE,
            metadata={"role": "db"}, **extra,
        )
        row = allocate_fixed_ip(network, instance.uuid, host="h", hostname=name)
        return instance, row.address

    return {"boot": boot, "image": image, "kernel": kernel, "ramdisk": ramdisk, "project": project}


def get(address, path):
    return Client(REMOTE_ADDR=address).get(path)


def text(address, path):
    response = get(address, path)
    assert response.status_code == 200, (path, response.status_code, response.content)
    return response.content.decode()


def test_root_and_version_listings(cloud):
    _vm, ip = cloud["boot"]("vm1")
    versions = text(ip, "/").split("\n")
    assert versions == ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                        "2008-02-01", "2008-09-01", "2009-04-04", "latest"]
    assert text(ip, "/latest/") == "meta-data/\nuser-data"
    assert text(ip, "/latest") == "meta-data/\nuser-data"
    assert get(ip, "/latest/").headers["Content-Type"].startswith("text/plain")


def test_meta_data_listing_is_one_entry_per_line_as_nova_prints_it(cloud):
    _vm, ip = cloud["boot"]("vm1")
    assert text(ip, "/latest/meta-data/").split("\n") == [
        "ami-id", "ami-launch-index", "ami-manifest-path", "block-device-mapping/", "hostname", "instance-action",
        "instance-id", "instance-type", "kernel-id", "local-hostname", "local-ipv4", "placement/",
        "public-hostname", "public-ipv4", "public-keys/", "ramdisk-id", "reservation-id", "security-groups",
    ]


def test_each_meta_data_value(cloud):
    vm, ip = cloud["boot"]("vm1")
    md = "/latest/meta-data/"
    expected = {
        "instance-id": "i-%08x" % vm.id,
        "ami-id": "ami-" + cloud["image"].id.hex[:8],
        "kernel-id": "aki-" + cloud["kernel"].id.hex[:8],
        "ramdisk-id": "ari-" + cloud["ramdisk"].id.hex[:8],
        "ami-launch-index": "0",
        "ami-manifest-path": "(unknown)",
        "hostname": "vm1.novalocal",
        "local-hostname": "vm1.novalocal",
        "public-hostname": "vm1.novalocal",
        "local-ipv4": ip,
        "public-ipv4": "",  # no floating IP
        "reservation-id": "r-vm1",
        "security-groups": "default\nweb",
        "instance-type": "m1.tiny",
        "instance-action": "none",
        "placement/": "availability-zone",
        "placement/availability-zone": "zone-a",
        "block-device-mapping/": "ami\nroot",
        "block-device-mapping/ami": "vda",
        "block-device-mapping/root": "/dev/vda",
    }
    for path, value in expected.items():
        assert text(ip, md + path) == value, path
    assert text(ip, md + "instance-id/") == expected["instance-id"]  # a trailing slash changes nothing


@pytest.mark.skipif(not apps.is_installed("floating"), reason="the floating IP app is not installed")
def test_public_ipv4_is_the_floating_address(cloud, member_account):
    from floating.models import FloatingIP

    vm, ip = cloud["boot"]("vm1")
    _vm2, ip2 = cloud["boot"]("vm2")
    fixed = FixedIP.objects.get(address=ip, instance_uuid=vm.uuid)
    FloatingIP.objects.create(address="203.0.113.7", pool="public", project=member_account[1], fixed_ip=fixed,
                              instance_uuid=vm.uuid)
    assert text(ip, "/latest/meta-data/public-ipv4") == "203.0.113.7"
    assert text(ip2, "/latest/meta-data/public-ipv4") == ""


def test_public_keys_format(cloud):
    _vm, ip = cloud["boot"]("vm1")
    assert text(ip, "/latest/meta-data/public-keys/") == "0=k"
    assert text(ip, "/latest/meta-data/public-keys/0/") == "openssh-key"
    assert text(ip, "/latest/meta-data/public-keys/0/openssh-key") == KEY
    assert get(ip, "/latest/meta-data/public-keys/1/openssh-key").status_code == 404
    assert get(ip, "/latest/meta-data/public-keys/0/_name").status_code == 404


def test_no_key_pair_means_no_public_keys(cloud):
    _vm, ip = cloud["boot"]("nokey", key_name=None, key_data=None)
    assert "public-keys/" not in text(ip, "/latest/meta-data/").split("\n")
    assert get(ip, "/latest/meta-data/public-keys/0/openssh-key").status_code == 404
    assert "public_keys" not in json.loads(text(ip, "/openstack/latest/meta_data.json"))


def test_user_data_is_decoded_and_404_when_there_is_none(cloud):
    _vm, ip = cloud["boot"]("vm1")
    response = get(ip, "/latest/user-data")
    assert response.status_code == 200 and response.content == USER_DATA
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert get(ip, "/2009-04-04/user-data").content == USER_DATA
    _vm2, ip2 = cloud["boot"]("vm2", user_data=None)
    assert get(ip2, "/latest/user-data").status_code == 404
    assert text(ip2, "/latest/") == "meta-data/"
    assert get(ip2, "/openstack/latest/user_data").status_code == 404


def test_dated_versions(cloud):
    _vm, ip = cloud["boot"]("vm1")
    latest = text(ip, "/latest/meta-data/")
    assert text(ip, "/2009-04-04/meta-data/") == latest
    assert text(ip, "/2009-04-04/meta-data/instance-id") == text(ip, "/latest/meta-data/instance-id")
    old = text(ip, "/2007-01-19/meta-data/").split("\n")
    assert "public-ipv4" in old and "instance-type" not in old and "placement/" not in old
    first = text(ip, "/1.0/meta-data/").split("\n")
    assert "instance-id" in first and "local-hostname" not in first
    assert get(ip, "/2007-01-19/meta-data/placement/availability-zone").status_code == 404
    assert get(ip, "/2010-01-01/meta-data/").status_code == 404
    assert get(ip, "/latest/meta-data/nothing-here").status_code == 404


def test_unknown_source_gets_404_everywhere(cloud):
    cloud["boot"]("vm1")
    for address in ("10.231.0.250", "127.0.0.1", "192.0.2.1", "not-an-address", ""):
        for path in ("/", "/latest/meta-data/instance-id", "/openstack/latest/meta_data.json", "/latest/user-data"):
            assert get(address, path).status_code == 404, (address, path)


def test_a_second_instance_only_ever_sees_its_own_data(cloud):
    vm1, ip1 = cloud["boot"]("vm1")
    vm2, ip2 = cloud["boot"]("vm2", key_name="j", key_data=OTHER_KEY, user_data=b"second")
    assert ip1 != ip2
    assert text(ip2, "/latest/meta-data/instance-id") == "i-%08x" % vm2.id
    assert text(ip2, "/latest/meta-data/public-keys/0/openssh-key") == OTHER_KEY
    assert text(ip2, "/latest/meta-data/local-ipv4") == ip2
    assert get(ip2, "/latest/user-data").content == b"second"
    seen = b"".join(get(ip2, path).content for path in (
        "/latest/meta-data/", "/latest/meta-data/hostname", "/latest/meta-data/public-keys/",
        "/latest/meta-data/reservation-id", "/openstack/latest/meta_data.json", "/latest/user-data"))
    for secret in (str(vm1.uuid), vm1.ec2_id, KEY, ip1, "vm1", "r-vm1"):
        assert secret.encode() not in seen
    assert text(ip1, "/latest/meta-data/instance-id") == vm1.ec2_id


def test_deleted_or_released_instance_gets_404(cloud):
    vm, ip = cloud["boot"]("vm1")
    assert get(ip, "/latest/meta-data/instance-id").status_code == 200
    Instance.objects.filter(pk=vm.pk).update(vm_state=states.DELETED)
    assert get(ip, "/latest/meta-data/instance-id").status_code == 404
    from django.utils import timezone

    Instance.all_objects.filter(pk=vm.pk).update(vm_state=states.ACTIVE, deleted_at=timezone.now())
    assert get(ip, "/latest/meta-data/instance-id").status_code == 404


def test_ipv4_mapped_source_address(cloud):
    vm, ip = cloud["boot"]("vm1")
    assert text(f"::ffff:{ip}", "/latest/meta-data/instance-id") == vm.ec2_id


def test_openstack_layout(cloud):
    vm, ip = cloud["boot"]("vm1")
    assert text(ip, "/openstack").split("\n") == ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "latest"]
    assert text(ip, "/openstack/") == text(ip, "/openstack")
    assert text(ip, "/openstack/latest").split("\n") == ["meta_data.json", "password", "user_data",
                                                         "vendor_data.json"]
    assert text(ip, "/openstack/2012-08-10/").split("\n") == ["meta_data.json", "user_data"]
    response = get(ip, "/openstack/latest/meta_data.json")
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body.pop("random_seed")
    assert body == {
        "uuid": str(vm.uuid), "name": "vm1", "hostname": "vm1.novalocal", "launch_index": 0,
        "availability_zone": "zone-a", "meta": {"role": "db"}, "public_keys": {"k": KEY},
        "keys": [{"name": "k", "type": "ssh", "data": KEY}], "project_id": str(cloud["project"].id),
    }
    old = json.loads(text(ip, "/openstack/2012-08-10/meta_data.json"))
    assert "project_id" not in old and "random_seed" not in old and old["uuid"] == str(vm.uuid)
    assert get(ip, "/openstack/latest/user_data").content == USER_DATA
    assert json.loads(text(ip, "/openstack/latest/vendor_data.json")) == {}
    assert get(ip, "/openstack/2011-01-01/meta_data.json").status_code == 404


def test_only_get_and_head(cloud):
    _vm, ip = cloud["boot"]("vm1")
    client = Client(REMOTE_ADDR=ip)
    assert client.post("/latest/meta-data/instance-id").status_code == 405
    assert client.post("/openstack/2012-08-10/password", "x", content_type="text/plain").status_code == 405
    assert client.head("/latest/meta-data/instance-id").status_code == 200


def test_the_guest_posts_its_password_once(cloud):
    """What os-server-password then shows its owner (compute/tests/test_tempest_gaps.py)."""
    from metadata.services import passwords

    vm, ip = cloud["boot"]("vm1")
    _other_vm, other_ip = cloud["boot"]("vm2")
    guest = Client(REMOTE_ADDR=ip)
    assert text(ip, "/openstack/latest/password") == ""
    secret = "c2VjcmV0LWVuY3J5cHRlZC13aXRoLXRoZS1rZXk="
    assert guest.post("/openstack/latest/password", secret, content_type="text/plain").status_code == 200
    assert guest.post("/openstack/2013-04-04/password", "again", content_type="text/plain").status_code == 409
    assert Client(REMOTE_ADDR="10.1.1.1").post("/openstack/latest/password", "x",
                                                content_type="text/plain").status_code == 404
    assert text(ip, "/openstack/latest/password") == secret
    assert text(other_ip, "/openstack/latest/password") == ""  # each guest its own
    assert passwords.get(vm.uuid) == secret
    passwords.clear(vm.uuid)  # the owner's DELETE: the guest may post again
    too_big = "x" * 1021
    assert guest.post("/openstack/latest/password", too_big, content_type="text/plain").status_code == 400
    assert guest.post("/openstack/latest/password", "new", content_type="text/plain").status_code == 200
    assert text(ip, "/openstack/2013-04-04/password") == "new"


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: a request must not close the test's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_wsgi_entry_serves_only_the_metadata_urls(cloud, keep_test_connection, settings):
    """metadata.wsgi resolves against metadata.api.urls whatever ROOT_URLCONF says, and answers
    guests asking for Host 169.254.169.254 whatever ALLOWED_HOSTS lists."""
    from metadata.wsgi import application

    settings.ALLOWED_HOSTS = ["api.example.com"]

    vm, ip = cloud["boot"]("vm1")

    def call(path):
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"] = status

        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": ip, "HTTP_HOST": "169.254.169.254",
                   "SERVER_NAME": "169.254.169.254",
                   "SERVER_PORT": "80", "wsgi.input": __import__("io").BytesIO(b""), "wsgi.url_scheme": "http"}
        body = b"".join(application(environ, start_response))
        return seen["status"], body

    assert call("/latest/meta-data/instance-id") == ("200 OK", vm.ec2_id.encode())
    status, body = call("/openstack/latest/meta_data.json")
    assert status == "200 OK" and json.loads(body)["uuid"] == str(vm.uuid)
    # the API's paths resolve against the metadata layout here: nothing of them answers
    assert call("/compute/v2.1/servers")[0].startswith("404")
    assert call("/identity/v3")[0].startswith("404")


def test_headers_naming_another_instance_change_nothing(cloud):
    """Only the source address counts: X-Forwarded-For, Forwarded, X-Real-IP or Nova's
    X-Instance-ID naming another instance neither reveal it nor let an outsider in."""
    vm1, ip1 = cloud["boot"]("vm1")
    vm2, ip2 = cloud["boot"]("vm2", key_name="j", key_data=OTHER_KEY, user_data=b"second")
    spoofed = {"HTTP_X_FORWARDED_FOR": ip1, "HTTP_FORWARDED": f"for={ip1}", "HTTP_X_REAL_IP": ip1,
               "HTTP_X_INSTANCE_ID": str(vm1.uuid), "HTTP_X_TENANT_ID": str(cloud["project"].id)}
    as_vm2 = Client(REMOTE_ADDR=ip2, **spoofed)
    assert as_vm2.get("/latest/meta-data/instance-id").content.decode() == vm2.ec2_id
    document = json.loads(as_vm2.get("/openstack/latest/meta_data.json").content)
    assert document["uuid"] == str(vm2.uuid)
    assert as_vm2.get("/latest/user-data").content == b"second"
    outsider = Client(REMOTE_ADDR="10.231.0.250", **spoofed)
    for path in ("/latest/meta-data/instance-id", "/openstack/latest/meta_data.json", "/latest/user-data"):
        assert outsider.get(path).status_code == 404
    # paths that try to name or climb to another instance stay inside the caller's own tree
    for path in (f"/openstack/latest/meta_data.json?uuid={vm1.uuid}", f"/latest/meta-data/{vm1.ec2_id}",
                 "/latest/meta-data/../../../vm1", f"/{vm1.uuid}/latest/meta-data/instance-id"):
        response = as_vm2.get(path)
        assert str(vm1.uuid).encode() not in response.content and vm1.ec2_id.encode() not in response.content, path
