"""GET /servers/detail reads what a page needs from each related table in one query: the
number of SQL queries does not grow with the page size (bench/api_servers_detail.py
measures the same with 10,000 servers)."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compute.models import Instance, InstanceFault, Service
from network.models import FixedIP
from network.services.networks import create_network

pytestmark = pytest.mark.django_db

PATH = "/compute/v2.1/servers/detail"


@pytest.fixture
def servers(member_account):
    user, project, _token = member_account
    for host in ("q-1", "q-2"):
        Service.objects.create(host=host, binary="nova-compute", topic="compute", availability_zone="nova",
                               last_seen_up=timezone.now())
    rows = Instance.objects.bulk_create([
        Instance(uuid=uuid.uuid4(), display_name=f"vm-{i}", hostname=f"vm-{i}", project=project, user=user,
                 flavorid="1", flavor_name="m1.tiny", memory_mb=512, vcpus=1, reservation_id=f"r-{i}",
                 vm_state="error" if i % 5 == 0 else "active", power_state=1, host=f"q-{i % 2 + 1}",
                 image_ref=str(uuid.uuid4()), metadata={"n": str(i)}, security_groups=[{"name": "default"}])
        for i in range(30)])
    Instance.all_objects.bulk_create([  # deleted rows never show and never cost a query
        Instance(uuid=uuid.uuid4(), display_name=f"gone-{i}", hostname="gone", project=project, user=user,
                 flavorid="1", flavor_name="m1.tiny", memory_mb=512, vcpus=1, reservation_id="r-gone",
                 vm_state="deleted", image_ref=str(uuid.uuid4()), deleted_at=timezone.now())
        for i in range(10)])
    network = create_network("qnet", "10.253.0.0/26", bridge="cptbn3")  # database rows only
    free = list(FixedIP.objects.filter(network=network, reserved=False).order_by("id")[: len(rows)])
    for instance, fixed in zip(rows, free):
        fixed.instance_uuid, fixed.allocated, fixed.host = instance.uuid, True, instance.host
    FixedIP.objects.bulk_update(free, ["instance_uuid", "allocated", "host"])
    InstanceFault.objects.bulk_create([InstanceFault(instance=i, code=500, message="No valid host was found.")
                                       for i in rows if i.vm_state == "error"])
    return rows


def counted_get(client, limit: int):
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PATH, {"limit": limit})
    assert response.status_code == 200, response.content
    return response.json()["servers"], len(queries)


def test_the_query_count_of_servers_detail_does_not_grow_with_the_page(member_client, servers):
    counted_get(member_client, 1)  # first use of the token
    # both pages hold ERROR servers (every 5th), so both read faults
    ten, queries_ten = counted_get(member_client, 10)
    page, queries_page = counted_get(member_client, 30)
    assert len(ten) == 10 and len(page) == 30
    assert queries_page == queries_ten
    # and the page is the full thing: addresses, faults and zones came from those few queries
    by_name = {server["name"]: server for server in page}
    assert all(server["addresses"]["qnet"][0]["addr"].startswith("10.253.0.") for server in page)
    assert by_name["vm-5"]["fault"]["message"] == "No valid host was found."
    assert by_name["vm-1"]["OS-EXT-AZ:availability_zone"] == "nova"
    assert not [server for server in page if server["name"].startswith("gone-")]
