"""One request id through the whole boot pipeline: `POST /servers` served by a real gunicorn
API, scheduled by a real scheduler process and built by a real host agent (libvirt's test
driver), all logging JSON lines. The id the API answered with appears in the API's access
line of that POST and in the log lines of every task the request caused: schedule,
allocate_ip, fetch_image, spawn."""
import json
import urllib.request

import pytest

from cloudproj.testing.cloud import Cloud, node_xml
from cloudproj.testing.real_guest import free_port
from compute.models import Flavor, Instance
from identity.services import quotas, accounts
from identity.models import Role
from identity.services.tokens import issue_token
from images.services.registry import register_image
from network.services.networks import create_network

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "rid-1"
TASKS = ("compute.schedule_instance", "compute.allocate_ip", "compute.fetch_image", "compute.spawn")


@pytest.fixture
def cloud(broker_url, settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    cloud = Cloud(tmp_path, broker_url, LOG_FORMAT="json", LOG_LEVEL="INFO")
    yield cloud
    cloud.stop()


def json_lines(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # gunicorn's own start-up lines
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def test_the_request_id_of_a_post_servers_is_in_the_api_line_and_in_every_task_it_caused(cloud, tmp_path):
    accounts.ensure_default_roles()
    project = accounts.create_project("rid")
    user = accounts.create_user("rid-user", "rid-pass", default_project=project)
    accounts.assign_role(user, Role.objects.get(name="member"), project)
    quotas.set_quotas(project, {"instances": 5})
    Flavor.objects.create(flavorid="rid.nano", name="rid.nano", memory_mb=64, vcpus=1, root_gb=0)
    disk = tmp_path / "nano.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = register_image(disk, "rid-image", disk_format="raw", visibility="public", owner=project)
    # served by a host with no agent: the addresses stay in the database (no bridge, no dnsmasq)
    create_network("ridnet", "10.253.0.0/24", bridge="cptbn2", host="rid-dhcp")
    token, _row = issue_token(user, project)

    cloud.start_scheduler(concurrency=1)
    cloud.start_agent(HOST, concurrency=1, LIBVIRT_URI=node_xml(tmp_path / "rid.xml", 4096))
    base = cloud.start_api(free_port())
    cloud.wait_up([HOST])

    body = json.dumps({"server": {"name": "traced", "flavorRef": "rid.nano", "imageRef": str(image.id)}}).encode()
    request = urllib.request.Request(f"{base}/compute/v2.1/servers", data=body, method="POST",
                                     headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202
        request_id = response.headers["x-openstack-request-id"]
        server_id = json.loads(response.read())["server"]["id"]
    assert request_id.startswith("req-")
    cloud.wait(lambda: Instance.objects.filter(uuid=server_id, vm_state="active").exists(), 120,
               "the server to become ACTIVE")

    def traced(key):
        return [e for e in json_lines(cloud.logs_of(key)) if e.get("request_id") == request_id]

    api_lines = traced("api")
    assert any(e["logger"] == "cloudproj.api.access" and e["message"].startswith("POST /compute/v2.1/servers 202")
               for e in api_lines), api_lines
    task_lines = traced("scheduler") + traced(f"agent-{HOST}")
    for task in TASKS:
        assert any(e.get("task") == task for e in task_lines), (task, task_lines)
    # and no other request's id leaked into those tasks' lines
    others = [e for e in json_lines(cloud.logs_of("scheduler") + cloud.logs_of(f"agent-{HOST}"))
              if e.get("task") in TASKS and e.get("request_id") != request_id]
    assert others == []
