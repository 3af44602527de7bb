"""Admin panels: services (up/down, enable/disable with a reason) and hypervisors (capacity)."""


from cloudproj.testing.factories import register_host as _host


def test_services_show_up_and_down(admin):
    _host("host-up")
    _host("host-down", up=False)
    html = admin["client"].get("/dashboard/admin/services/").content.decode()
    up_row = html[html.index("<td>host-up</td>") - 200:html.index("<td>host-up</td>") + 400]
    down_row = html[html.index("<td>host-down</td>") - 200:html.index("<td>host-down</td>") + 400]
    assert ">up<" in up_row and ">down<" in down_row


def test_admin_disables_a_service_with_a_reason_and_enables_it(admin):
    service = _host("host-a")
    client = admin["client"]
    response = client.post("/dashboard/admin/services/update/",
                           {"host": "host-a", "binary": "nova-compute", "disable": "1", "reason": "disk swap"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.disabled and service.disabled_reason == "disk swap"
    html = client.get("/dashboard/admin/services/").content.decode()
    assert "nova-compute on host-a disabled (disk swap)." in html
    assert f'id="service-{service.pk}" data-disabled="1"' in html and "disk swap" in html
    client.post("/dashboard/admin/services/update/", {"host": "host-a", "binary": "nova-compute", "disable": "0"})
    service.refresh_from_db()
    assert not service.disabled and service.disabled_reason is None


def test_unknown_service_is_a_message(admin):
    client = admin["client"]
    client.post("/dashboard/admin/services/update/", {"host": "nope", "binary": "nova-compute", "disable": "1"})
    assert "Unknown service nova-compute on host nope." in client.get("/dashboard/admin/services/").content.decode()


def test_hypervisors_have_capacity_bars(admin):
    _host("host-a", vcpus=8, memory_mb=4096, local_gb=100, vcpus_used=2, memory_mb_used=1024, local_gb_used=10)
    html = admin["client"].get("/dashboard/admin/hypervisors/").content.decode()
    assert 'max="4096" value="1024"' in html and "1024 of 4096 MB (25%)" in html
    assert "2 of 8  (25%)" in html and "10 of 100 GB (10%)" in html


def test_admin_pages_do_not_grow_queries(admin, django_assert_max_num_queries):
    for i in range(30):
        _host(f"h{i}", vcpus=4, memory_mb=1024)
    with django_assert_max_num_queries(12):
        assert admin["client"].get("/dashboard/admin/hypervisors/").status_code == 200
    with django_assert_max_num_queries(12):
        assert admin["client"].get("/dashboard/admin/services/").status_code == 200
