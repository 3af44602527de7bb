"""Admin panels: fixed networks (as `./manage.py network create|delete`) and floating ranges
(as `./manage.py floating create|delete`). Addresses: 10.249.0.0/24 (this helper's range),
bridges cptda*; nothing here touches the host (no network host is set)."""
from floating.models import FloatingIP
from network.models import FixedIP, Network

NETWORKS, RANGES = "/dashboard/admin/networks/", "/dashboard/admin/floating-ranges/"


def _html(response):
    return response.content.decode()


def _create(client, **fields):
    data = {"label": "dash-net", "cidr": "10.249.0.0/26", "bridge": "cptda0", "dhcp": "on", **fields}
    return client.post(NETWORKS, data, follow=True)


def test_admin_creates_lists_and_deletes_a_network(admin, member):
    client = admin["client"]
    response = _create(client, project=member["project"].id, dns1="10.249.0.53", mtu=1400)
    assert "Network dash-net (10.249.0.0/26 on cptda0) created." in _html(response)
    network = Network.objects.get(label="dash-net")
    assert network.project == member["project"] and network.mtu == 1400 and not network.injected
    assert FixedIP.objects.filter(network=network).count() == 64
    html = _html(client.get(NETWORKS))
    row = html[html.index(f'id="network-{network.uuid}"'):]
    row = row[:row.index("</tr>")]
    for text in ("dash-net", "10.249.0.0/26", "cptda0", "demo", ">yes<", "0 allocated of 64"):
        assert text in row, text
    assert 'id="network-manager">flatdhcp<' in html
    response = client.post(f"{NETWORKS}{network.uuid}/delete/", follow=True)
    assert "Network dash-net (10.249.0.0/26) deleted." in _html(response)
    assert not Network.objects.filter(label="dash-net").exists()


def test_network_without_dhcp_is_flat_injected(admin):
    _create(admin["client"], dhcp="")
    assert Network.objects.get(label="dash-net").injected


def test_network_create_refuses_what_network_create_refuses(admin):
    client = admin["client"]
    _create(client)
    cases = [
        ({"label": "other", "cidr": "10.249.0.32/27", "bridge": "cptda1"},
         "fixed range 10.249.0.32/27 overlaps network dash-net (10.249.0.0/26)"),
        ({"label": "dash-net", "cidr": "10.249.0.64/27", "bridge": "cptda1"},
         "a network labelled &#x27;dash-net&#x27; already exists"),
        ({"label": "other", "cidr": "10.249.0.64/27", "bridge": "cptda0"}, "bridge cptda0 is already used"),
        ({"label": "other", "cidr": "10.249.0.64/31", "bridge": "cptda1"}, "must be between /16 and /30"),
        ({"label": "other", "cidr": "10.249.0.65/27", "bridge": "cptda1"}, "has host bits set"),
        ({"label": "other", "cidr": "10.249.0.64/27", "bridge": "bad bridge;"}, "bridge:"),
        ({"label": "other", "cidr": "10.249.0.64/27", "bridge": "cptda1", "dns1": "ten"},
         "dns1 &#x27;ten&#x27; is not a valid IPv4 address"),
        ({"label": "other", "cidr": "10.249.0.64/27", "bridge": "cptda1", "mtu": 100},
         "MTU: Ensure this value is greater than or equal to 576."),
    ]
    for data, message in cases:
        response = client.post(NETWORKS, {"dhcp": "on", **data})
        assert response.status_code == 400, data
        assert message in _html(response), (data, _html(response)[-2500:])
    assert Network.objects.count() == 1 and FixedIP.objects.count() == 64


def test_vlan_manager_creates_vlan_networks(admin, settings):
    settings.NETWORK_MANAGER = "vlan"
    response = _create(admin["client"], bridge="", vlan_start=3249)
    network = Network.objects.get(vlan=3249)
    assert "created." in _html(response) and network.cidr == "10.249.0.0/26"
    assert "3249" in _html(admin["client"].get(NETWORKS))


def test_network_in_use_is_not_deleted(admin, member):
    _create(admin["client"])
    network = Network.objects.get(label="dash-net")
    FixedIP.objects.filter(network=network, address="10.249.0.5").update(allocated=True)
    response = admin["client"].post(f"{NETWORKS}{network.uuid}/delete/", follow=True)
    assert "Network dash-net is still in use: 1 address(es) allocated" in _html(response)
    assert Network.objects.filter(pk=network.pk).exists()


def test_floating_ranges_create_list_and_delete(admin, member):
    client = admin["client"]
    response = client.post(RANGES, {"ip_range": "10.249.0.128/28", "pool": "public", "interface": "cptda9"},
                           follow=True)
    assert "14 floating IPs of 10.249.0.128/28 created in pool public." in _html(response)
    client.post(RANGES, {"ip_range": "10.249.0.200/32"})
    FloatingIP.objects.filter(address="10.249.0.130").update(project=member["project"])
    html = _html(client.get(RANGES))
    row = html[html.index('id="range-10.249.0.129"'):]
    row = row[:row.index("</tr>")]
    for text in ("10.249.0.128/28 (10.249.0.129 – 10.249.0.142)", ">public<", "cptda9", ">14<", ">1<", ">13<",
                 "disabled"):
        assert text in row, text
    single = html[html.index('id="range-10.249.0.200"'):]
    assert "10.249.0.200/32" in single[:single.index("</tr>")] and "(default)" in single[:single.index("</tr>")]
    refused = client.post(f"{RANGES}delete/", {"ip_range": "10.249.0.128/28"}, follow=True)
    assert "1 address(es) of 10.249.0.128/28 are allocated to projects" in _html(refused)
    assert FloatingIP.objects.filter(address__startswith="10.249.0.1").count() == 14
    FloatingIP.objects.filter(address="10.249.0.130").update(project=None)
    response = client.post(f"{RANGES}delete/", {"ip_range": "10.249.0.128/28"}, follow=True)
    assert "14 floating IPs of 10.249.0.128/28 deleted." in _html(response)
    assert list(FloatingIP.objects.values_list("address", flat=True)) == ["10.249.0.200"]


def test_bad_floating_range_input_is_a_message(admin):
    client = admin["client"]
    _create(client)
    cases = [
        ({"ip_range": "10.249.0.0/28"}, "overlaps fixed network dash-net"),
        ({"ip_range": "10.0.0.0/8"}, "too large: at most /16"),
        ({"ip_range": "127.0.0.0/30"}, "not usable for public addresses"),
        ({"ip_range": "nonsense"}, "invalid IP range &#x27;nonsense&#x27;"),
        ({"ip_range": "10.249.0.192/30", "interface": "eth0; reboot"}, "interface:"),
        ({"ip_range": ""}, "This field is required."),
    ]
    for data, message in cases:
        response = client.post(RANGES, data)
        assert response.status_code == 400, data
        assert message in _html(response), (data, _html(response)[-2500:])
    client.post(RANGES, {"ip_range": "10.249.0.192/30"})
    duplicate = client.post(RANGES, {"ip_range": "10.249.0.192/30"})
    assert duplicate.status_code == 400 and "floating IP 10.249.0.193 already exists" in _html(duplicate)
    assert FloatingIP.objects.count() == 2
    missing = client.post(f"{RANGES}delete/", {"ip_range": "10.249.0.240/30"}, follow=True)
    assert "no floating IP of 10.249.0.240/30 exists" in _html(missing)


def test_network_pages_do_not_grow_queries(admin, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    from network.services.networks import create_network
    from floating.services.ranges import create_range

    for i in range(12):
        create_network(f"n{i}", f"10.249.0.{i * 8}/29", bridge=f"cptda{i}")
        create_range(f"10.249.0.{128 + i * 8}/30", pool=f"pool{i % 3}")
    with django_assert_max_num_queries(16):
        assert admin["client"].get(NETWORKS).status_code == 200
    with django_assert_max_num_queries(16):
        assert admin["client"].get(RANGES).status_code == 200
