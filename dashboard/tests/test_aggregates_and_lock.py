"""Admin panel: host aggregates (create with a zone, add/remove hosts, zone and metadata,
delete) and the instance page's lock/unlock, through the API's services."""
from compute.models import Aggregate, Instance, Service
from compute.services import hosts

AGGREGATES = "/dashboard/admin/aggregates/"


def _html(response):
    return response.content.decode()


def test_admin_manages_aggregates_and_zones(admin, db):
    hosts.register_service("host-a", "nova-compute")
    hosts.register_service("host-b", "nova-compute")
    client = admin["client"]
    page = _html(client.post(AGGREGATES, {"name": "rack-1", "availability_zone": "az-1"}, follow=True))
    assert "Aggregate rack-1 created." in page
    agg = Aggregate.objects.get(name="rack-1")
    url = f"{AGGREGATES}{agg.pk}/"
    page = _html(client.post(url, {"op": "add_host", "host": "host-b"}, follow=True))
    assert "Host host-b added to rack-1." in page
    assert Service.objects.get(host="host-b", binary="nova-compute").availability_zone == "az-1"
    row = page[page.index(f'id="aggregate-{agg.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "host-b" in row and 'value="az-1"' in row
    client.post(url, {"op": "set_zone", "availability_zone": "az-2"})
    assert Service.objects.get(host="host-b", binary="nova-compute").availability_zone == "az-2"
    page = _html(client.post(url, {"op": "set_metadata", "key": "ssd", "value": "true"}, follow=True))
    assert "ssd=true" in page
    # refusals are readable messages: duplicate name, non-empty delete
    assert "already exists" in _html(client.post(AGGREGATES, {"name": "rack-1"}))
    assert "still has hosts" in _html(client.post(url, {"op": "delete"}, follow=True))
    client.post(url, {"op": "remove_host", "host": "host-b"})
    assert Service.objects.get(host="host-b", binary="nova-compute").availability_zone == "nova"
    assert "Aggregate deleted." in _html(client.post(url, {"op": "delete"}, follow=True))
    assert not Aggregate.objects.exists()


def test_member_cannot_reach_the_aggregates_panel(member):
    assert member["client"].get(AGGREGATES).status_code == 403
    assert member["client"].post(AGGREGATES, {"name": "x"}).status_code == 403
    assert not Aggregate.objects.exists()


def test_lock_and_unlock_from_the_instance_page(member, admin, make_instance):
    instance = make_instance(member["project"], member["user"], name="web")
    url = f"/dashboard/instances/{instance.uuid}/"
    page = _html(member["client"].post(url + "lock/", {"action": "lock", "reason": "maintenance"}, follow=True))
    assert "web locked" in page
    assert "yes, by owner: maintenance" in page
    row = Instance.objects.get(pk=instance.pk)
    assert (row.locked, row.locked_by, row.locked_reason) == (True, "owner", "maintenance")
    # the member's stop is refused while locked
    page = _html(member["client"].post(url + "action/", {"action": "stop", "next": url}, follow=True))
    assert "is locked" in page
    member["client"].post(url + "lock/", {"action": "unlock"})
    assert not Instance.objects.get(pk=instance.pk).locked
    # an admin's lock: the owner cannot lift it
    admin["client"].post(url + "lock/", {"action": "lock"})
    assert Instance.objects.get(pk=instance.pk).locked_by == "admin"
    page = _html(member["client"].post(url + "lock/", {"action": "unlock"}, follow=True))
    assert "unlock_override" in page
    assert Instance.objects.get(pk=instance.pk).locked
