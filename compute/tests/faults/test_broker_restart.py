"""The broker (a private Redis, then a private RabbitMQ node: the shared ones serve other
runs) restarts in the middle of
50 boots: no request is lost and every server is ACTIVE once it is back. Boots asked for
while it is down wait for it (bounded publish retry, BROKER_PUBLISH_RETRY_TIMEOUT). Messages
workers held come back after the visibility timeout; a message Redis handed out but never
recorded is sent again by the reaper's pass (beat, BUILD_STEP_RESEND_AFTER)."""
import threading
import time

import pytest

from cloudproj.testing.cloud import Cloud, node_xml
from cloudproj.testing.pipeline import FAULTS_BRIDGE as BRIDGE
from cloudproj.testing.pipeline import boot
from compute import states
from compute.models import Instance

from .private_services import PrivateRabbitMQ, PrivateRedis

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "flt-b1"


@pytest.fixture(params=["redis", "rabbitmq"])
def private_broker(request, tmp_path):
    """The test process publishes to the private broker too (the API side of the boots)."""
    from cloudproj.celery import app

    broker = PrivateRedis if request.param == "redis" else PrivateRabbitMQ
    with broker(tmp_path) as server:
        saved = {key: app.conf[key] for key in ("broker_write_url", "broker_read_url")}
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.update(broker_write_url=server.url, broker_read_url=server.url)
        try:
            yield server
        finally:
            app._pool = None
            app.amqp._producer_pool = None
            app.conf.update(saved)


@pytest.fixture
def cloud_on_private_broker(private_broker, settings, tmp_path):
    import subprocess

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    cloud = Cloud(tmp_path, private_broker.url, BROKER_VISIBILITY_TIMEOUT=20, BUILD_STEP_RESEND_AFTER=30,
                  BUILD_TIMEOUT_CHECK_INTERVAL=5)
    yield cloud
    cloud.stop()
    subprocess.run(["pkill", "-f", f"dnsmasq.*{BRIDGE}"], check=False)
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


def test_broker_restart_in_the_middle_of_50_boots(private_broker, cloud_on_private_broker, world, tmp_path):
    cloud = cloud_on_private_broker
    world["network"].host = HOST
    world["network"].save(update_fields=["host"])
    cloud.start_beat()
    cloud.start_scheduler(concurrency=2)
    cloud.start_agent(HOST, LIBVIRT_URI=node_xml(tmp_path / "b1.xml", 40 * 1024, vcpus=16))
    cloud.wait_up([HOST])

    first = boot(world, "before", count=25)
    cloud.wait(lambda: Instance.objects.filter(vm_state=states.ACTIVE).count() >= 3, 60, "the first boots")
    private_broker.stop()
    late, errors = [], []

    def boot_while_down():
        for index in range(25):
            try:
                late.extend(boot(world, f"during-{index}"))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

    sender = threading.Thread(target=boot_while_down)
    sender.start()
    time.sleep(4)  # the first late boot waits in its publish retry
    private_broker.start()
    sender.join(180)
    assert not errors, errors
    uuids = [i.uuid for i in first] + [i.uuid for i in late]
    assert len(uuids) == 50

    def all_active():
        return Instance.objects.filter(uuid__in=uuids, vm_state=states.ACTIVE).count() == 50

    try:
        cloud.wait(all_active, 240, "all 50 servers to be ACTIVE after the broker came back", interval=1)
    except AssertionError as exc:
        behind = list(Instance.objects.filter(uuid__in=uuids).exclude(vm_state=states.ACTIVE)
                      .values_list("uuid", "vm_state", "task_state", "updated_at"))
        raise AssertionError(f"not ACTIVE: {behind}\n{exc}") from None


def test_broker_down_longer_than_the_retry_answers_503_and_creates_nothing(world, tmp_path):
    """A broker that stays down past BROKER_PUBLISH_RETRY_TIMEOUT (here 2 s): the boot is
    refused with 503 and the server it had created is gone again, its quota given back."""
    from cloudproj.celery import app
    from cloudproj.exceptions import ServiceUnavailable
    from cloudproj.testing.real_guest import free_port
    from identity.services import quotas

    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    saved = {key: app.conf[key] for key in ("broker_write_url", "broker_read_url", "task_publish_retry_policy")}
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.update(broker_write_url=dead, broker_read_url=dead,
                    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 1,
                                               "interval_max": 1})
    try:
        with pytest.raises(ServiceUnavailable) as refused:
            boot(world, "no-broker", count=2)
    finally:
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.update(saved)
    assert refused.value.code == 503 and "message queue is unavailable" in refused.value.message
    assert not Instance.objects.filter(display_name="no-broker").exists()
    assert quotas.get_usages(world["project"])["instances"]["in_use"] == 0
