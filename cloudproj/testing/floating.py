"""The floating IP tests' servers, placed as the boot pipeline would leave them (no worker
runs), and the hosts a request asked to re-apply their NAT."""
from .servers import API

HOST = "fip-a"


def boot_placed(client, image, network, name="vm", host=HOST):
    """A server as the pipeline leaves it: ACTIVE on `host` with a fixed IP on `network`."""
    from compute import states
    from compute.models import Instance
    from compute.services import instances as instance_service
    from network.services import fixed_ips

    body = {"server": {"name": name, "imageRef": str(image.id), "flavorRef": "1"}}
    response = client.post(f"{API}/servers", body, format="json")
    assert response.status_code == 202, response.content
    row = Instance.all_objects.get(uuid=response.json()["server"]["id"])
    fixed_ips.allocate_fixed_ip(network, row.uuid, host=host, hostname=name)
    instance_service.update_state(row, vm_state=states.ACTIVE, task_state=None, power_state=1, host=host)
    return row


def synced(sent) -> list:
    """The hosts asked to re-apply their floating NAT (on their own network.<host> queue)."""
    hosts = [args[0] for name, args, queue in sent if name == "floating.sync_host" and queue == f"network.{args[0]}"]
    sent.clear()
    return hosts
